/**
 * The demo's story as data: one descriptor per beat, in order. `runDemo` announces each beat with
 * its number (its place in this list) and runs it; a beat that does not happen in a run (nobody
 * was killed) is skipped and keeps its number. A new beat is a new entry here.
 */
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Principal } from '../../coordinator/auth.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { DEMO_REPO, seedDemo } from '../../coordinator/seed.ts';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import type { Task } from '../../protocol/model.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { dashboardUrl } from '../commands/coordinator.ts';
import { standingLine } from '../commands/standing-line.ts';
import { formatDuration } from '../output.ts';
import { createDemoRemote } from './demo-repo.ts';
import { startFakeGitHub } from './github/server.ts';
import { readJournalStory } from './journal-story.ts';
import { followJournal } from './narration.ts';
import { listenToPresenter, playUntil, sleep } from './play.ts';
import { BASE, DEMO_WORKERS, type DemoScene } from './scene.ts';
import { SimWorker } from './sim-worker.ts';
import { explainLeftovers, printSummary, readWholeJournal } from './summary.ts';
import { listAll } from '../../protocol/list-pages.ts';

export interface Beat {
  title: string;
  /** Whether this run has the beat at all (default: yes). Asked just before it would start. */
  happens?: (scene: DemoScene) => boolean;
  run: (scene: DemoScene) => Promise<void>;
}

export const BEATS: readonly Beat[] = [
  { title: 'A coordinator with a seeded repo', run: setTheStage },
  { title: 'Three volunteers join, each with their own skills and capacity', run: volunteersJoin },
  { title: 'Leases, area locks and the review budget, live', run: playUntilTheKill },
  { title: 'A volunteer\'s machine dies mid-task', happens: (scene) => scene.victim !== undefined && !scene.over, run: killAndPlayOn },
  { title: 'A flood from one eager volunteer held at their cap, while a vouched volunteer gets work', happens: (scene) => !scene.quit, run: floodAtTheCap },
  { title: 'What happened (read back from the journal)', run: summarise },
];

/** The coordinator on its lowdb store, the seeded repo with its real git remote, the GitHub-shaped server. */
async function setTheStage(scene: DemoScene): Promise<void> {
  const { c, dataDir } = scene;
  const remote = await createDemoRemote(join(dataDir, 'git'));
  // Each volunteer opens PRs as themselves, with a token of their own; the maintainer merges in git.
  const githubTokens = new Map(DEMO_WORKERS.map((w) => [w.login, `ghp_demo${randomBytes(12).toString('hex')}`]));
  // The maintainers' GitHub App, installed on the repo: the coordinator authenticates as it.
  const app = demoApp(dataDir);
  const github = await startFakeGitHub({
    layout: 'enterprise',
    tokens: [...githubTokens].map(([login, token]) => ({ token, login })),
    repos: [{ full_name: DEMO_REPO, git: remote }],
    apps: [{ id: app.id, slug: app.slug, name: 'OWP demo', owner: DEMO_REPO.split('/')[0] as string, publicKey: app.publicKey, installations: [{ id: app.installationId, account: DEMO_REPO.split('/')[0] as string, repositories: [DEMO_REPO] }] }],
  });
  const started = await startCoordinator({
    config: {
      port: scene.options.port,
      host: '127.0.0.1',
      data_dir: join(dataDir, 'coordinator'),
      store: 'lowdb',
      sweep_interval_ms: Math.min(250, scene.t(250)),
      // The App route of README "Connect a repo": the App's id and its private key file, nothing else.
      // No polling and no webhook here: the demo's maintainer merges in git and says so itself;
      // what the App shows is the coordinator checking every reported PR with GitHub as the App.
      github: { api_url: github.url, web_url: github.htmlUrl, app: { id: app.id, private_key_file: app.keyFile }, poll_interval_ms: 0, reputation: { enabled: false } },
    },
    staticHandler: dashboardStaticHandler(),
  });
  const { coordinator, url } = started;
  const adminPrincipal = coordinator.runtime.authenticate(started.adminToken) as Principal;
  const admin = new HttpClient({ baseUrl: url, token: started.adminToken });
  await seedDemo(coordinator.runtime, adminPrincipal, DEMO_REPO, { whenNoTasks: true });
  const maxOpenPrs = 3;
  await admin.call('repo.configure', {
    repo: DEMO_REPO,
    max_open_prs: maxOpenPrs,
    max_new_prs_per_hour: 1000,
    heartbeat_timeout_ms: scene.heartbeatTimeoutMs,
    offer_timeout_ms: scene.offerTimeoutMs,
    required_gates: ['tests', 'lint'],
  });
  const seeded = await listAll((p) => admin.call('task.list', p), 'task.list', { repo: DEMO_REPO, limit: 1000 });
  const areas = [...new Set(seeded.map((task) => task.area).filter(Boolean))];
  const titles = new Map(seeded.map((task) => [task.id, task.title]));
  scene.stage = { started, url, admin, adminPrincipal, remote, github, githubTokens, titles, unfollow: () => undefined };
  scene.say(c.dim('setup '), `coordinator on ${url} (lowdb store in ${join(dataDir, 'coordinator')})`);
  scene.say(c.dim('setup '), `${DEMO_REPO}: ${seeded.length} ready tasks across areas ${areas.join(', ')}; git remote ${remote}`);
  scene.say(c.dim('setup '), `review budget: max_open_prs ${maxOpenPrs}; heartbeat timeout ${formatDuration(scene.heartbeatTimeoutMs)}; gates tests + lint`);
  const minted = github.state.requests.filter((r) => r.path === `/app/installations/${app.installationId}/access_tokens` && r.status === 201).length;
  scene.say(c.dim('setup '), `GitHub App ${app.slug} (id ${app.id}) installed on ${DEMO_REPO}: the coordinator signed in with its private key, minted ${minted} installation token${minted === 1 ? '' : 's'}, and checks each reported PR with GitHub as ${app.slug}[bot]`, { app: app.slug, installation_id: app.installationId, tokens_minted: minted });
  scene.out.block(`\n  ${c.bold('Dashboard:')} ${c.underline(dashboardUrl(url, started.adminToken))}`);
  scene.out.event('dashboard', { url: `${url}/`, coordinator: url, data_dir: dataDir });
  scene.stage.unfollow = followJournal(scene, coordinator.runtime, adminPrincipal);
  await sleep(scene.t(BASE.beatPauseMs));
}

/** A fresh App key pair for this run: the private key in a 0600 file (never in the config), the public key for the GitHub-shaped server. */
function demoApp(dataDir: string): { id: number; slug: string; installationId: number; publicKey: string; keyFile: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  mkdirSync(dataDir, { recursive: true });
  const keyFile = join(dataDir, 'github-app.private-key.pem');
  writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
  return { id: 31337, slug: 'owp-demo', installationId: 4711, publicKey: keys.publicKey, keyFile };
}

/** The simulated volunteers register, clone and connect; from here they take offers on their own. */
async function volunteersJoin(scene: DemoScene): Promise<void> {
  const { url, admin, github, githubTokens, remote } = scene.stage;
  const ctx = {
    coordinatorUrl: url,
    admin,
    githubApiUrl: github.url,
    remote,
    workDir: join(scene.dataDir, 'volunteers'),
    thinkMs: scene.t(BASE.thinkMs),
    workMs: (task: Task) => scene.t(BASE.workMs + task.effort * BASE.workPerEffortMs),
    say: (w: SimWorker, message: string) => scene.say(scene.who(w.workerId), scene.c.dim(message)),
  };
  for (const spec of DEMO_WORKERS) {
    const worker = new SimWorker(spec, { ...ctx, githubToken: githubTokens.get(spec.login) as string });
    scene.workers.push(worker);
    await worker.register();
    scene.names.set(worker.workerId, spec.login);
    scene.say(scene.who(worker.workerId), `joined as ${worker.workerId}: skills ${spec.skills.join(', ')} · capacity ${spec.capacity} · trust ${spec.trust}`, { worker_id: worker.workerId, ...spec });
    await worker.connect();
  }
  // The play starts: merges wait for their first gap, and the clock for giving up starts now.
  scene.lastMergeAt = Date.now();
  scene.deadline = Date.now() + scene.maxDurationMs;
}

/** The pool at work, the presenter's keys live, until a volunteer is picked to die (or the play ends). */
async function playUntilTheKill(scene: DemoScene): Promise<void> {
  scene.stopListening = listenToPresenter(scene);
  await playUntil(scene, () => scene.victim !== undefined);
}

/** A crash: no release, no more heartbeats. The lease expires and another volunteer gets the task. */
async function killAndPlayOn(scene: DemoScene): Promise<void> {
  const { worker: victim, why } = scene.victim!;
  scene.victim = undefined;
  scene.killed = victim;
  const held = [...victim.active.values()].map(({ task, lease }) => `${task.id} (${lease.lease_id})`).join(', ');
  scene.say(scene.who(victim.workerId), `${scene.c.red('✗ killed')} (${why}) while holding ${held}: no release, no more heartbeats`, { worker_id: victim.workerId });
  victim.kill();
  await playUntil(scene, () => false);
}

/** The repo of the policy beat, apart from the seeded one so the play's figures stay its own. */
export const FLOOD_REPO = 'octo-org/flood-gate';
/** A skill only the beat's two volunteers have, so the simulated pool is never offered these tasks. */
const FLOOD_SKILL = 'triage';

/**
 * Maintainer protection from the field: a per-contributor cap (contributor_cap) and vouching
 * (vouch: { from_tier: 1 }). One eager volunteer claims task after task and is held at their cap;
 * the volunteer the maintainers vouched for gets the tier-1 task the eager one may not take.
 */
async function floodAtTheCap(scene: DemoScene): Promise<void> {
  const { url, admin } = scene.stage;
  const { c } = scene;
  await admin.call('repo.configure', {
    repo: FLOOD_REPO, max_open_prs: 20, max_new_prs_per_hour: 1000,
    policy: { contributor_cap: { base: 2, per_merge: 3, max: 10 }, vouch: { from_tier: 1 } },
  });
  scene.say(c.dim('policy'), `${FLOOD_REPO}: contributor_cap { base: 2, per_merge: 3, max: 10 } · vouch: { from_tier: 1 }`);
  const join = async (login: string) => {
    const { worker, token } = await WorkerClient.register(url, { github_login: login, skills: [FLOOD_SKILL], capacity: 10, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
    return { id: worker.id, login, http: new HttpClient({ baseUrl: url, token }) };
  };
  const eager = await join('eager-ed');
  const vera = await join('vera');
  // Both may take tier-1 work by trust: what tells them apart is the maintainers' word.
  for (const w of [eager, vera]) await admin.call('worker.set_trust', { worker_id: w.id, trust: 1 });
  await admin.call('contributor.vouch', { repo: FLOOD_REPO, login: vera.login, reason: 'maintainer of a sister project' });
  scene.say(c.dim('policy'), `the maintainers vouch for @${vera.login}; @${eager.login} is new here`);
  const tasks: string[] = [];
  for (let i = 1; i <= 6; i += 1) tasks.push((await admin.call('task.create', { repo: FLOOD_REPO, title: `Triage report ${i}`, skills: [FLOOD_SKILL] })).task.id);
  const review = (await admin.call('task.create', { repo: FLOOD_REPO, title: 'Review the release checklist', skills: [FLOOD_SKILL], tier: 1 })).task.id;
  let held = 0;
  let refused = 0;
  const rules: string[] = [];
  for (const id of [...tasks, review]) {
    try {
      await eager.http.call('task.claim', { task_id: id });
      held += 1;
      scene.say(c.dim('policy'), `@${eager.login} claims ${id}: ${c.green('granted')} (${held} held)`);
    } catch (error) {
      refused += 1;
      const rule = (error as { details?: { rule?: string } }).details?.rule ?? (error as Error).message;
      rules.push(rule);
      scene.say(c.dim('policy'), `@${eager.login} claims ${id}: ${c.red('refused')} by rule ${rule}`, { rule });
    }
    await sleep(scene.t(BASE.thinkMs / 4));
  }
  await vera.http.call('task.claim', { task_id: review });
  scene.say(c.dim('policy'), `@${vera.login} (vouched) claims ${review}: ${c.green('granted')} — the flood took ${held} of 7, ${refused} refused, and the queue stayed open`, { held, refused });
  // What the dashboard's Policy panel and `owp contributor list` show: the coordinator's own count.
  const { standings } = await admin.call('policy.standings', { repo: FLOOD_REPO });
  for (const r of standings) scene.say(c.dim('policy'), standingLine(r));
  const eagerRow = standings.find((r) => r.login === eager.login);
  scene.out.event('flood', { held, refused, rules, vouched_got: review, eager_standing: { in_use: eagerRow?.in_use, cap: eagerRow?.cap, at_cap: eagerRow?.at_cap } });
  await sleep(scene.t(BASE.beatPauseMs));
}

async function summarise(scene: DemoScene): Promise<void> {
  const { admin, unfollow } = scene.stage;
  unfollow();
  const events = await readWholeJournal(admin);
  const story = readJournalStory(events, DEMO_REPO);
  const explainLeft = await explainLeftovers(admin, story);
  const journalFile = join(scene.dataDir, 'coordinator', 'journal.jsonl');
  printSummary(scene.out, story, scene.names, explainLeft, journalFile, scene.options.keep || scene.options.stay);
  scene.out.event('summary', { story, killed: scene.killed?.spec.login, timed_out: scene.timedOut, journal: journalFile });
  scene.story = story;
}
