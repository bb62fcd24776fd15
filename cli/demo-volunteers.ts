/**
 * Simulated volunteers and a simulated reviewer for `owp coordinator --seed-demo --demo-volunteers N`
 * (what `npm start` runs), so the dashboard has a living pool to show without editors attached.
 * They are ordinary protocol clients: real WorkerClients over socket.io and a maintainer over HTTP.
 * Now and then a volunteer "closes its laptop" mid-task, so a lease visibly expires and requeues.
 *
 * They work on the second repo only (their profile's `repos`): the seeded repo, backed by a real
 * git remote and the local GitHub-shaped server, is left to a person following the README. The
 * reviewer merges that person's PR for real (in the remote, through the server) before it tells
 * the coordinator, so a merge the volunteer hears about happened.
 */
import { HttpClient } from '../client/http-client.ts';
import { WorkerClient, type WorkerProfile } from '../client/worker-client.ts';
import { DEMO_REPO, DEMO_TASKS } from '../coordinator/seed.ts';
import type { Offer } from '../protocol/model.ts';
import { listAll } from '../protocol/list-pages.ts';
import type { FakeGitHub } from './demo/github/server.ts';

interface DemoProfile extends WorkerProfile {
  trust: number;
  x_leaderboard?: boolean;
}

const PROFILES: DemoProfile[] = [
  { github_login: 'ada-lovelace', skills: ['docs', 'ts', 'tests', 'perf'], capacity: 5, tools: ['claude-code'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 2, x_leaderboard: true },
  { github_login: 'grace-hopper', skills: ['docs', 'ts', 'tests'], capacity: 3, tools: ['copilot'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 1, x_leaderboard: true },
  { github_login: 'alan-t', skills: ['docs', 'ts'], capacity: 2, tools: ['aider'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 1 },
  { github_login: 'katherine-j', skills: ['docs'], capacity: 2, tools: ['cursor'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 0, x_leaderboard: true },
];

const FLOW_REPO = 'octo-org/owp-website';
const GATES = [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0 }];

export interface DemoVolunteers {
  close(): void;
}

const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min));

export async function startDemoVolunteers(url: string, adminToken: string, count: number, log: (line: string) => void = () => undefined, github?: FakeGitHub): Promise<DemoVolunteers> {
  const admin = new HttpClient({ baseUrl: url, token: adminToken });
  const timers = new Set<NodeJS.Timeout>();
  const clients = new Set<WorkerClient>();
  let closed = false;
  const later = (ms: number, fn: () => unknown): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) void Promise.resolve().then(fn).catch(() => undefined);
    }, ms);
    timers.add(timer);
  };

  for (const profile of PROFILES.slice(0, Math.max(0, count))) {
    const { trust, ...fields } = profile;
    // The same key each run returns the same worker (with a fresh token), so restarts do not pile up volunteers.
    const { worker, token } = await admin.call('worker.register', { ...fields, repos: [FLOW_REPO], idempotency_key: `demo-volunteer:${profile.github_login}:${FLOW_REPO}` });
    if (worker.trust !== trust) await admin.call('worker.set_trust', { worker_id: worker.id, trust });
    const connect = (): void => {
      const client = new WorkerClient({ url, token });
      clients.add(client);
      const handled = new Set<string>();
      const work = (offer: Offer): void => {
        if (handled.has(offer.offer_id)) return;
        handled.add(offer.offer_id);
        later(between(1000, 4000), async () => {
          if (Math.random() < 0.1) return client.decline(offer.offer_id, 'not today');
          const { lease } = await client.accept(offer.offer_id);
          later(between(2000, 5000), () => client.report(lease.lease_id, { state: 'in_progress' }));
          later(between(12_000, 35_000), async () => {
            const roll = Math.random();
            if (roll < 0.1) {
              // The laptop lid closes: no more heartbeats, the lease expires, the task requeues.
              log(`demo: ${profile.github_login} went silent holding ${lease.lease_id}`);
              clients.delete(client);
              client.close();
              later(between(40_000, 60_000), connect);
              return;
            }
            if (roll < 0.2) return client.release(lease.lease_id, 'ran out of time');
            const number = Number(offer.task_id.slice(2)) + 100;
            return client.report(lease.lease_id, { state: 'pr_opened', pr: { url: `https://github.com/${offer.repo}/pull/${number}`, number, gates: GATES } });
          });
        });
      };
      client.on('offer', work);
      client.connect().then(
        () => {
          for (const offer of client.offers.values()) work(offer);
        },
        () => undefined,
      );
    };
    connect();
  }

  // A second repo with a roomy hourly budget keeps work flowing once the seeded repo is throttled.
  await admin.call('repo.configure', { repo: FLOW_REPO, max_open_prs: 3, max_new_prs_per_hour: 60, idempotency_key: `demo:${FLOW_REPO}:settings` });

  // A PR on the demo's GitHub-shaped server is merged there (into the git remote) first; any other
  // is left open. The server's PRs live in memory and their numbers start again after a restart, so
  // the PR must still be there and be the task's branch: never someone else's PR #1.
  const mergeForReal = async (taskId: string, pr: { url: string; branch?: string } | undefined): Promise<void> => {
    const number = pr && github && pr.url.startsWith(`${github.htmlUrl}/${DEMO_REPO}/pull/`) ? Number(pr.url.split('/').at(-1)) : undefined;
    if (!github || !number || !pr?.branch) return;
    let open: boolean;
    try {
      const found = github.state.pullOf(github.state.repo(DEMO_REPO), number);
      open = found.state === 'open' && found.pull.head_ref === pr.branch;
    } catch {
      open = false;
    }
    if (!open) return;
    const prUrl = pr.url;
    try {
      await github.merge(DEMO_REPO, number, 'demo-maintainer');
    } catch (error) {
      log(`demo: could not merge ${prUrl}: ${(error as Error).message}`);
      return;
    }
    await admin.call('task.complete', { task_id: taskId, outcome: 'merged', reason: `merged by the demo maintainer into ${DEMO_REPO}'s main` });
    log(`demo: merged ${prUrl} (${taskId})`);
  };

  // The reviewer merges most PRs after a while and keeps a few ready tasks in each queue.
  let refill = 0;
  const review = async (): Promise<void> => {
    for (const repo of [DEMO_REPO, FLOW_REPO]) {
      const tasks = await listAll((p) => admin.call('task.list', p), 'task.list', { repo, limit: 1000 });
      const now = Date.now();
      for (const t of tasks) {
        if (t.state === 'pr_opened' && now - t.updated_at > 20_000 && repo === DEMO_REPO) {
          await mergeForReal(t.id, t.pr);
        } else if (t.state === 'pr_opened' && now - t.updated_at > 20_000 && Math.random() < 0.5) {
          await admin.call('task.complete', { task_id: t.id, outcome: Math.random() < 0.85 ? 'merged' : 'closed', reason: 'reviewed' });
        }
        if (t.state === 'blocked') await admin.call('task.unblock', { task_id: t.id });
      }
      if (tasks.filter((t) => t.state === 'ready').length < 3) {
        const template = DEMO_TASKS[refill % DEMO_TASKS.length] as (typeof DEMO_TASKS)[number];
        refill += 1;
        await admin.call('task.create', { repo, title: `${template.title} (round ${Math.floor(refill / DEMO_TASKS.length) + 2})`, body: template.body, area: template.area, tier: Math.min(template.tier, 1), effort: Math.min(template.effort, 3), skills: template.skills });
      }
    }
  };
  const reviewer = setInterval(() => void review().catch(() => undefined), 5000);
  reviewer.unref();

  return {
    close(): void {
      closed = true;
      clearInterval(reviewer);
      for (const timer of timers) clearTimeout(timer);
      for (const client of clients) client.close();
    },
  };
}
