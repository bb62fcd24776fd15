/**
 * The five-minute demo, told in beats: a coordinator on the embedded store with a seeded repo
 * backed by a real git repository; three simulated volunteers who take offers and push real
 * branches; a maintainer who merges PRs over time; an area lock and the review budget holding work
 * back; one volunteer killed mid-task, whose lease expires and whose task goes to someone else; and
 * a closing summary read from the journal. All timings divide by `speed`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Task } from '../../protocol/model.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Principal } from '../../coordinator/auth.ts';
import type { Result } from '../../protocol/operations.ts';
import { startCoordinator, type Started } from '../../coordinator/server.ts';
import { DEMO_REPO, seedDemo } from '../../coordinator/seed.ts';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import { dashboardUrl } from '../commands/coordinator.ts';
import { HttpClient } from '../../client/http-client.ts';
import { oneLine } from '../../client/prompt.ts';
import { formatDuration, type Output } from '../output.ts';
import { createDemoRemote } from './demo-repo.ts';
import { startGithubLike, type GithubLike } from './github-like.ts';
import { SimWorker, type SimWorkerSpec } from './sim-worker.ts';
import { readJournalStory, type JournalStory } from './journal-story.ts';

export interface DemoOptions {
  /** 1 = about five minutes; 6 ≈ one minute. */
  speed: number;
  port: number;
  dataDir?: string;
  /** Keep the data dir (journal, git repos) afterwards. */
  keep: boolean;
  /** Keep the coordinator and dashboard up after the summary until Ctrl-C / q. */
  stay: boolean;
  /** Kill a worker on cue (default), or only when the presenter presses k. */
  autoKill: boolean;
  out: Output;
  input?: NodeJS.ReadStream;
}

export interface DemoResult {
  story: JournalStory;
  dataDir: string;
  journalFile: string;
  killed: string | undefined;
  timedOut: boolean;
}

export const DEMO_WORKERS: SimWorkerSpec[] = [
  { name: 'Ada', login: 'ada', skills: ['docs'], capacity: 2, trust: 0 },
  { name: 'Grace', login: 'grace', skills: ['docs', 'ts', 'tests'], capacity: 3, trust: 1 },
  { name: 'Linus', login: 'linus', skills: ['docs', 'ts', 'tests', 'perf'], capacity: 5, trust: 2 },
];

/** Base timings at speed 1 (about five minutes in all). */
const BASE = {
  beatPauseMs: 2500,
  thinkMs: 1500,
  workMs: 20_000,
  workPerEffortMs: 5000,
  reviewAfterMs: 18_000,
  mergeGapMs: 9000,
  heartbeatTimeoutMs: 15_000,
  offerTimeoutMs: 10_000,
  killAfterPrs: 3,
  maxDurationMs: 8 * 60_000,
};

const MARKER = '.owp-demo';

async function prepareDataDir(given: string | undefined): Promise<string> {
  if (!given) return mkdtemp(join(tmpdir(), 'owp-demo-'));
  const dir = resolve(given);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) {
    throw new Error(`${dir} is not empty and was not made by owp demo; pick an empty or new folder for --data-dir.`);
  }
  // Re-runnable from scratch: a previous demo's folder is wiped.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { out } = options;
  const c = out.colors;
  const speed = options.speed;
  const t = (ms: number): number => Math.max(1, Math.round(ms / speed));
  // Heartbeats and offers keep a floor: on a busy machine a shorter timeout expires live leases.
  const heartbeatTimeoutMs = Math.max(4000, t(BASE.heartbeatTimeoutMs));
  const offerTimeoutMs = Math.max(2000, t(BASE.offerTimeoutMs));
  const dataDir = await prepareDataDir(options.dataDir);
  await writeFile(join(dataDir, MARKER), 'made by owp demo; safe to delete\n');
  const startedAt = Date.now();
  const clock = (): string => {
    const s = Math.floor((Date.now() - startedAt) / 1000);
    return c.dim(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`);
  };
  const beat = (n: number, title: string): void => {
    out.block(`\n${c.bold(c.magenta(`Beat ${n} · ${title}`))}`);
    out.event('beat', { beat: n, title });
  };
  const names = new Map<string, string>();
  const paint = [c.cyan, c.yellow, c.green, c.blue];
  const who = (workerId: string | undefined): string => {
    const name = (workerId && names.get(workerId)) ?? workerId ?? '?';
    const i = DEMO_WORKERS.findIndex((w) => w.login === name);
    return (paint[i] ?? c.white)(name.padEnd(6));
  };
  const say = (actor: string, message: string, data: Record<string, unknown> = {}): void => {
    out.event('narration', { actor: actor.trim(), message, ...data });
    if (!out.json) out.block(`${clock()} ${actor} ${message}`);
  };

  // ---- Beat 1: the coordinator, the repo, the dashboard ------------------------------------------
  beat(1, 'A coordinator with a seeded repo');
  const started: Started = await startCoordinator({
    config: { port: options.port, host: '127.0.0.1', data_dir: join(dataDir, 'coordinator'), store: 'lowdb', sweep_interval_ms: Math.min(250, t(250)) },
    staticHandler: dashboardStaticHandler(),
    log: () => undefined,
  });
  const { coordinator, url } = started;
  const runtime = coordinator.runtime;
  const adminPrincipal = runtime.authenticate(started.adminToken) as Principal;
  const admin = new HttpClient({ baseUrl: url, token: started.adminToken });
  const remote = await createDemoRemote(join(dataDir, 'git'));
  const githubToken = `ghp_demo${randomBytes(12).toString('hex')}`;
  const github: GithubLike = await startGithubLike({ repos: { [DEMO_REPO]: remote }, tokens: [githubToken] });
  await seedDemo(runtime, adminPrincipal);
  const maxOpenPrs = 3;
  await admin.call('repo.configure', {
    repo: DEMO_REPO,
    max_open_prs: maxOpenPrs,
    max_new_prs_per_hour: 1000,
    heartbeat_timeout_ms: heartbeatTimeoutMs,
    offer_timeout_ms: offerTimeoutMs,
    required_gates: ['tests', 'lint'],
  });
  const { tasks: seeded } = await admin.call('task.list', { repo: DEMO_REPO, limit: 1000 });
  const areas = [...new Set(seeded.map((task) => task.area).filter(Boolean))];
  say(c.dim('setup '), `coordinator on ${url} (lowdb store in ${join(dataDir, 'coordinator')})`);
  say(c.dim('setup '), `${DEMO_REPO}: ${seeded.length} ready tasks across areas ${areas.join(', ')}; git remote ${remote}`);
  say(c.dim('setup '), `review budget: max_open_prs ${maxOpenPrs}; heartbeat timeout ${formatDuration(heartbeatTimeoutMs)}; gates tests + lint`);
  out.block(`\n  ${c.bold('Dashboard:')} ${c.underline(dashboardUrl(url, started.adminToken))}`);
  out.event('dashboard', { url: `${url}/`, coordinator: url, data_dir: dataDir });

  // ---- narration of the journal ------------------------------------------------------------------
  const workers: SimWorker[] = [];
  let prsOpened = 0;
  let merged = 0;
  let throttled = false;
  let killed: SimWorker | undefined;
  let requeuedAfterKill = false;
  const expiredFrom = new Map<string, string>();
  const announcedWaits = new Set<string>();
  const titles = new Map(seeded.map((task) => [task.id, task.title]));
  const label = (taskId: string | undefined): string => `${c.bold(taskId ?? '?')} ${c.dim(`"${oneLine(titles.get(taskId ?? '') ?? '', 38)}"`)}`;
  let checking = false;
  let recheck = false;

  const checkBudgetAndLocks = async (): Promise<void> => {
    if (checking) {
      recheck = true;
      return;
    }
    checking = true;
    try {
      do {
        recheck = false;
        const repo = await runtime.call(adminPrincipal, 'repo.get', { repo: DEMO_REPO });
        const ready = await runtime.call(adminPrincipal, 'task.list', { repo: DEMO_REPO, state: 'ready', limit: 1000 });
        if (!repo.ok || !ready.ok) return;
        const view = repo.data as Result<'repo.get'>;
        const readyTasks = (ready.data as Result<'task.list'>).tasks;
        const b = view.budget;
        const used = b.open_prs + b.live_leases + b.open_offers;
        if (used >= b.max_open_prs && !throttled) {
          throttled = true;
          say(c.red('budget'), `${c.red('full')} ${used}/${b.max_open_prs}: ${b.open_prs} open PRs + ${b.live_leases} live leases + ${b.open_offers} offers → max_open_prs holds new offers back`, { budget: b });
        } else if (used < b.max_open_prs && throttled) {
          throttled = false;
          say(c.green('budget'), `room again: ${used}/${b.max_open_prs} in use`, { budget: b });
        }
        for (const task of readyTasks) {
          const holder = task.area ? view.locks[task.area] : undefined;
          if (!holder || holder === task.id || announcedWaits.has(`${task.id}:${holder}`)) continue;
          announcedWaits.add(`${task.id}:${holder}`);
          say(c.yellow('lock  '), `${label(task.id)} waits: area ${c.bold(task.area!)} is locked by ${holder}`, { task_id: task.id, area: task.area, holder });
        }
      } while (recheck);
    } finally {
      checking = false;
    }
  };

  const onJournal = (events: JournalEvent[]): void => {
    for (const e of events) {
      if (e.repo !== undefined && e.repo !== DEMO_REPO) continue;
      switch (e.type) {
        case 'lease.granted': {
          const from = expiredFrom.get(e.task_id);
          if (from && from !== e.worker_id) {
            expiredFrom.delete(e.task_id);
            if (killed && from === killed.workerId) requeuedAfterKill = true;
            say(who(e.worker_id), `${c.green('↻ requeued:')} ${label(e.task_id)} moves from ${names.get(from) ?? from} to ${names.get(e.worker_id) ?? e.worker_id} (lease ${e.data.lease_id}, epoch ${e.data.epoch})`, { task_id: e.task_id, from, to: e.worker_id });
          } else {
            say(who(e.worker_id), `leased ${label(e.task_id)} (${e.data.lease_id}, epoch ${e.data.epoch})`, { task_id: e.task_id, worker_id: e.worker_id });
          }
          break;
        }
        case 'pr.opened': {
          prsOpened += 1;
          const pr = e.data.pr;
          const gates = pr.gates.map((g) => `${g.name} ${g.passed ? c.green('✓') : c.red('✗')}`).join(' ');
          say(who(e.worker_id), `${c.green('opened PR')} #${pr.number ?? '?'} for ${label(e.task_id)} · ${gates}`, { task_id: e.task_id, pr: pr.url });
          break;
        }
        case 'task.merged':
          merged += 1;
          say(c.blue('maint '), `merged the PR for ${label(e.task_id)} into main → its budget unit and area lock are free`, { task_id: e.task_id });
          break;
        case 'lease.expired':
          expiredFrom.set(e.task_id, e.worker_id);
          say(c.red('lease '), `${c.red('expired:')} no heartbeat from ${names.get(e.worker_id) ?? e.worker_id} on ${label(e.task_id)} → back to ${e.data.to} (attempt ${e.data.attempts})`, { task_id: e.task_id, worker_id: e.worker_id });
          break;
        case 'lease.released':
          say(who(e.worker_id), `released ${label(e.task_id)}`, { task_id: e.task_id });
          break;
        case 'task.blocked':
          say(c.red('block '), `${label(e.task_id)} blocked: ${e.data.reason}`, { task_id: e.task_id });
          break;
        case 'worker.disconnected':
          if (killed && e.worker_id === killed.workerId) say(who(e.worker_id), c.red('is offline (its socket dropped with the process)'));
          break;
        default:
          break;
      }
    }
    void checkBudgetAndLocks();
  };
  runtime.on('journal', onJournal);
  await sleep(t(BASE.beatPauseMs));

  // ---- Beat 2: three volunteers join ---------------------------------------------------------------
  beat(2, 'Three volunteers join, each with their own skills and capacity');
  const ctx = {
    coordinatorUrl: url,
    admin,
    githubApiUrl: github.apiUrl,
    githubToken,
    remote,
    workDir: join(dataDir, 'volunteers'),
    thinkMs: t(BASE.thinkMs),
    workMs: (task: Task) => t(BASE.workMs + task.effort * BASE.workPerEffortMs),
    say: (w: SimWorker, message: string) => say(who(w.workerId), c.dim(message)),
  };
  for (const spec of DEMO_WORKERS) {
    const worker = new SimWorker(spec, ctx);
    workers.push(worker);
    await worker.register();
    names.set(worker.workerId, spec.login);
    say(who(worker.workerId), `joined as ${worker.workerId}: skills ${spec.skills.join(', ')} · capacity ${spec.capacity} · trust ${spec.trust}`, { worker_id: worker.workerId, ...spec });
    await worker.connect();
  }
  beat(3, 'Leases, area locks and the review budget, live');

  // ---- the maintainer merges PRs over time --------------------------------------------------------
  let lastMergeAt = Date.now();
  const maintainerTick = async (): Promise<void> => {
    if (Date.now() - lastMergeAt < t(BASE.mergeGapMs)) return;
    const { tasks } = await admin.call('task.list', { repo: DEMO_REPO, state: 'pr_opened', limit: 1000 });
    const oldest = tasks.filter((task) => task.pr?.number).sort((a, b) => (a.pr!.opened_at ?? 0) - (b.pr!.opened_at ?? 0))[0];
    if (!oldest || Date.now() - (oldest.pr!.opened_at ?? 0) < t(BASE.reviewAfterMs)) return;
    lastMergeAt = Date.now();
    await github.merge(oldest.pr!.number!, DEMO_REPO);
    await admin.call('task.complete', { task_id: oldest.id, outcome: 'merged' });
  };

  // ---- Beat 4: a volunteer dies --------------------------------------------------------------------
  const canTakeOver = (task: Task, victim: SimWorker): boolean =>
    workers.some((w) => w !== victim && w.alive && task.skills.every((s) => w.spec.skills.includes(s)) && w.spec.trust >= task.tier);
  const pickVictim = (requireTakeover: boolean): SimWorker | undefined =>
    workers.find((w) => w.alive && [...w.active.values()].some(({ task, phase }) => !requireTakeover || (phase === 'working' && canTakeOver(task, w))));
  const kill = (victim: SimWorker, why: string): void => {
    if (killed) return;
    killed = victim;
    beat(4, 'A volunteer\'s machine dies mid-task');
    const held = [...victim.active.values()].map(({ task, lease }) => `${task.id} (${lease.lease_id})`).join(', ');
    say(who(victim.workerId), `${c.red('✗ killed')} (${why}) while holding ${held}: no release, no more heartbeats`, { worker_id: victim.workerId });
    victim.kill();
  };
  const onKey = (key: string): void => {
    const k = key.toLowerCase();
    if (k === 'k') {
      const victim = pickVictim(true) ?? pickVictim(false);
      if (victim) kill(victim, 'the presenter pressed k');
      else out.warn('Nobody holds a task right now; press k again in a moment.');
    } else if (k === 'q' || k === '\u0003') {
      quit = true;
    }
  };
  let quit = false;
  // Ctrl-C outside raw mode (piped output) still ends with the summary and a clean temp folder.
  const onSigint = (): void => {
    quit = true;
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const input = options.input;
  if (input?.isTTY) {
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onKey);
    input.resume();
  }

  // ---- run until every doable task is merged -----------------------------------------------------
  // Git and the gates do not speed up with --speed, so fast runs get a floor.
  const maxDurationMs = Math.max(t(BASE.maxDurationMs), 3 * 60_000);
  const deadline = Date.now() + maxDurationMs;
  let timedOut = false;
  let finished = false;
  try {
    while (!quit) {
      await sleep(Math.min(250, t(500)));
      await maintainerTick().catch((error: unknown) => out.warn(`maintainer: ${(error as Error).message}`));
      if (!killed && options.autoKill && prsOpened >= BASE.killAfterPrs) {
        const victim = pickVictim(true);
        if (victim) kill(victim, 'on cue');
      }
      const budget = await admin.call('repo.get', { repo: DEMO_REPO });
      const used = budget.budget.open_prs + budget.budget.live_leases + budget.budget.open_offers;
      out.status(`${c.dim(`${formatDuration(Date.now() - startedAt)}`)} · budget ${used}/${budget.budget.max_open_prs} · ${prsOpened} PRs opened · ${merged} merged${killed ? '' : ' · press k to kill a volunteer'} · q to stop`);
      // Nothing active is left only once the killed volunteer's lease has expired too.
      if (await allDoableDone(admin)) {
        finished = true;
        if (!killed) out.warn('No volunteer was killed this run (nobody held a task another could take over at the cue).');
        else if (!requeuedAfterKill) out.warn(`${killed.spec.login}'s task expired but nobody else could take it over.`);
        break;
      }
      if (Date.now() > deadline) {
        timedOut = true;
        out.warn(`The demo did not finish within ${formatDuration(maxDurationMs)}; summarising what happened so far.`);
        break;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (input?.isTTY) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
      // A paused terminal still holds the event loop open.
      (input as NodeJS.ReadStream & { unref?: () => void }).unref?.();
    }
    out.status('');
  }
  if (finished) say(c.dim('done  '), 'every task a volunteer here can do is merged');

  // ---- Beat 5: the summary, from the journal --------------------------------------------------------
  beat(5, 'What happened (read back from the journal)');
  runtime.off('journal', onJournal);
  const events = await readWholeJournal(admin);
  const story = readJournalStory(events, DEMO_REPO);
  const explainLeft = await explainLeftovers(admin, story);
  printSummary(out, story, names, explainLeft, join(dataDir, 'coordinator', 'journal.jsonl'), options.keep || options.stay);
  out.event('summary', { story, killed: killed?.spec.login, timed_out: timedOut, journal: join(dataDir, 'coordinator', 'journal.jsonl') });

  for (const w of workers) if (w.alive) w.stop();
  if (options.stay) {
    out.block(`\n  Dashboard still up at ${c.underline(dashboardUrl(url, started.adminToken))}. Press Ctrl-C to stop.`);
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
  }
  await github.close();
  await coordinator.close();
  if (!options.keep) await rm(dataDir, { recursive: true, force: true });
  return { story, dataDir, journalFile: join(dataDir, 'coordinator', 'journal.jsonl'), killed: killed?.spec.login, timedOut };
}

async function allDoableDone(admin: HttpClient): Promise<boolean> {
  const { tasks } = await admin.call('task.list', { repo: DEMO_REPO, limit: 1000 });
  if (tasks.some((task) => ['offered', 'leased', 'in_progress', 'pr_opened'].includes(task.state))) return false;
  for (const task of tasks.filter((x) => x.state === 'ready')) {
    const why = await admin.call('task.explain', { task_id: task.id });
    if (why.eligible_workers > 0) return false;
  }
  return true;
}

async function readWholeJournal(admin: HttpClient): Promise<JournalEvent[]> {
  const events: JournalEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await admin.call('journal.read', { after_seq: after, limit: 1000 });
    events.push(...page.events);
    if (page.events.length < 1000) return events;
    after = page.events[page.events.length - 1]!.seq;
  }
}

async function explainLeftovers(admin: HttpClient, story: JournalStory): Promise<string[]> {
  const lines: string[] = [];
  for (const [taskId, state] of Object.entries(story.final_states)) {
    if (state !== 'ready' && state !== 'blocked') continue;
    const why = await admin.call('task.explain', { task_id: taskId });
    const reason = why.reasons[0]?.message ?? state;
    lines.push(`${taskId} stays ${state}: ${reason}`);
  }
  return lines;
}

function printSummary(out: Output, story: JournalStory, names: Map<string, string>, leftovers: string[], journalFile: string, kept: boolean): void {
  const c = out.colors;
  const name = (id: string): string => names.get(id) ?? id;
  const row = (key: string, value: string): void => out.block(`  ${c.bold(key.padEnd(11))} ${value}`);
  row('journal', `${story.events} events${kept ? ` in ${journalFile}` : ''}`);
  row('tasks', `${story.tasks_created} created · ${Object.values(story.final_states).filter((s) => s === 'merged').length} merged · ${leftovers.length} left`);
  row('leases', `${story.leases_granted} granted · ${story.leases_expired} expired · ${story.leases_released} released`);
  row('requeues', story.requeues.length ? story.requeues.map((r) => `${r.task_id}: ${name(r.from_worker)} → ${name(r.to_worker)}`).join(', ') : 'none');
  row('PRs', `${story.prs_opened} opened · ${story.prs_merged} merged · by ${Object.entries(story.prs_by_worker).map(([w, n]) => `${name(w)} ${n}`).join(', ')}`);
  row('budget', `peak ${story.budget_peak}/${story.max_open_prs ?? '?'} (open PRs + live leases + offers) · full ${story.throttle_hits} time(s)${story.max_open_prs !== undefined && story.budget_peak <= story.max_open_prs ? ', never over' : c.red(' — OVER the limit')}`);
  row('area locks', `${story.lock_waits.length} task(s) waited for their area: ${story.lock_waits.slice(0, 6).map((w) => `${w.task_id} behind ${w.holder} (${w.area})`).join(', ')}${story.lock_waits.length > 6 ? ', …' : ''}`);
  for (const line of leftovers) row('', c.dim(line));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
