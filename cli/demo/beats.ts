/**
 * The demo's story as data: one descriptor per beat, in order. `runDemo` announces each beat with
 * its number (its place in this list) and runs it; a beat that does not happen in a run (nobody
 * was killed) is skipped and keeps its number. A new beat is a new entry here.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Principal } from '../../coordinator/auth.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { DEMO_REPO, seedDemo } from '../../coordinator/seed.ts';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import type { Task } from '../../protocol/model.ts';
import { HttpClient } from '../../client/http-client.ts';
import { dashboardUrl } from '../commands/coordinator.ts';
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
  { title: 'What happened (read back from the journal)', run: summarise },
];

/** The coordinator on its lowdb store, the seeded repo with its real git remote, the GitHub-shaped server. */
async function setTheStage(scene: DemoScene): Promise<void> {
  const { c, dataDir } = scene;
  const started = await startCoordinator({
    config: { port: scene.options.port, host: '127.0.0.1', data_dir: join(dataDir, 'coordinator'), store: 'lowdb', sweep_interval_ms: Math.min(250, scene.t(250)) },
    staticHandler: dashboardStaticHandler(),
  });
  const { coordinator, url } = started;
  const adminPrincipal = coordinator.runtime.authenticate(started.adminToken) as Principal;
  const admin = new HttpClient({ baseUrl: url, token: started.adminToken });
  const remote = await createDemoRemote(join(dataDir, 'git'));
  // Each volunteer opens PRs as themselves, with a token of their own; the maintainer merges in git.
  const githubTokens = new Map(DEMO_WORKERS.map((w) => [w.login, `ghp_demo${randomBytes(12).toString('hex')}`]));
  const github = await startFakeGitHub({
    layout: 'enterprise',
    tokens: [...githubTokens].map(([login, token]) => ({ token, login })),
    repos: [{ full_name: DEMO_REPO, git: remote }],
  });
  await seedDemo(coordinator.runtime, adminPrincipal);
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
  scene.out.block(`\n  ${c.bold('Dashboard:')} ${c.underline(dashboardUrl(url, started.adminToken))}`);
  scene.out.event('dashboard', { url: `${url}/`, coordinator: url, data_dir: dataDir });
  scene.stage.unfollow = followJournal(scene, coordinator.runtime, adminPrincipal);
  await sleep(scene.t(BASE.beatPauseMs));
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
