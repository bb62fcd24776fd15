/**
 * `owp demo --speed fast`, run as a child process of the built CLI, checked from its journal:
 * every beat must be there (leases, an area lock holding a task back, the review budget full and
 * never exceeded, a killed worker's lease expiring and its task going to another worker, PRs with
 * gate evidence merged into the real git remote), and a second run starts from scratch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { usingBundle } from '../helpers/owp-cli.ts';
import { BEATS } from '../../cli/demo/beats.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs the built demo; with stopAtBeat, stops it as a presenter's Ctrl-C would once that beat is narrated. */
function runDemo(args: string[], stopAtBeat?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'owp.mjs'), 'demo', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Any line after the beat comes from a later turn of the event loop, once the demo's own Ctrl-C handler is set.
      if (stopAtBeat !== undefined && !stopped && new RegExp(`"event":"beat",[^\\n]*"beat":${stopAtBeat},[^\\n]*\\n[^\\n]+\\n`).test(stdout)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`owp demo did not finish in time\n${stdout.slice(-3000)}\n${stderr}`));
    }, 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function readJournal(dataDir: string): JournalEvent[] {
  return readFileSync(join(dataDir, 'coordinator', 'journal.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as JournalEvent);
}

/** Replays task states from the journal alone and checks the beats against them. */
function checkBeats(events: JournalEvent[]): { lockHeld: string[]; peak: number; fullTimes: number; requeued: Array<{ task: string; from: string; to: string; fromOffline: boolean }> } {
  const repo = 'octo-org/hello-owp';
  const state = new Map<string, string>();
  const area = new Map<string, string>();
  let maxOpen = Infinity;
  let peak = 0;
  let fullTimes = 0;
  let wasFull = false;
  const waitedBehind = new Map<string, string>();
  const lockHeld: string[] = [];
  const expiredFrom = new Map<string, string>();
  const disconnected = new Set<string>();
  const requeued: Array<{ task: string; from: string; to: string; fromOffline: boolean }> = [];
  const expiredOffline = new Set<string>();
  const active = (s: string | undefined): boolean => s === 'offered' || s === 'leased' || s === 'in_progress' || s === 'pr_opened';
  for (const e of events) {
    if (e.repo && e.repo !== repo) continue;
    const id = e.task_id!;
    const d = e.data as Record<string, unknown>;
    if (e.type === 'repo.configured') maxOpen = (d.settings as { max_open_prs: number }).max_open_prs;
    if (e.type === 'task.created') {
      const t = d.task as { id: string; area?: string };
      state.set(t.id, 'ready');
      if (t.area) area.set(t.id, t.area);
    }
    if (e.type === 'offer.created') state.set(id, 'offered');
    if (e.type === 'offer.expired' || e.type === 'offer.declined' || e.type === 'offer.withdrawn') state.set(id, 'ready');
    if (e.type === 'worker.disconnected') disconnected.add(e.worker_id!);
    if (e.type === 'lease.granted') {
      // A task that waited behind another task of its area is leased only after that one finished.
      const holder = waitedBehind.get(id);
      if (holder) {
        assert.ok(!active(state.get(holder)), `${id} was leased while ${holder} still held area ${area.get(id)}`);
        lockHeld.push(`${id}<${holder}`);
      }
      const from = expiredFrom.get(id);
      if (from && from !== e.worker_id) requeued.push({ task: id, from, to: e.worker_id!, fromOffline: expiredOffline.has(id) });
      expiredFrom.delete(id);
      expiredOffline.delete(id);
      state.set(id, 'leased');
    }
    if (e.type === 'task.started') state.set(id, 'in_progress');
    if (e.type === 'pr.opened') {
      state.set(id, 'pr_opened');
      const gates = (d.pr as { gates: Array<{ name: string; passed: boolean }> }).gates;
      for (const name of ['tests', 'lint']) assert.ok(gates.some((g) => g.name === name && g.passed), `PR for ${id} lacks passing ${name} evidence`);
    }
    if (e.type === 'lease.expired') {
      expiredFrom.set(id, e.worker_id!);
      if (disconnected.has(e.worker_id!)) expiredOffline.add(id);
      state.set(id, String(d.to));
    }
    if (e.type === 'lease.released' || e.type === 'lease.cancelled') state.set(id, String(d.to));
    if (e.type === 'task.merged') state.set(id, 'merged');
    if (e.type === 'task.closed') state.set(id, 'closed');
    // After each event: budget use, and which ready tasks an active task of their area holds back.
    const reserved = [...state.values()].filter(active).length;
    assert.ok(reserved <= maxOpen, `budget exceeded at seq ${e.seq}: ${reserved} > ${maxOpen}`);
    peak = Math.max(peak, reserved);
    if (reserved === maxOpen && !wasFull) fullTimes += 1;
    wasFull = reserved === maxOpen;
    for (const [taskId, s] of state) {
      if (s !== 'ready' || waitedBehind.has(taskId)) continue;
      for (const [other, os] of state) if (other !== taskId && active(os) && area.get(other) === area.get(taskId) && area.has(taskId)) waitedBehind.set(taskId, other);
    }
  }
  return { lockHeld, peak, fullTimes, requeued };
}

test('owp demo --speed fast shows every beat, and runs again from scratch', { timeout: 600_000 }, async () => {
  // scripts/run-tests.mjs built the bundle before the suite; rebuilding here would change dist/ under other tests.
  if (!usingBundle()) execFileSync(process.execPath, [join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = join(tempDir('owp-demo-test-'), 'demo');
  try {
    const first = await runDemo(['--speed', 'fast', '--data-dir', dataDir, '--keep', '--json']);
    assert.equal(first.code, 0, `demo failed:\n${first.stdout.slice(-3000)}\n${first.stderr}`);
    // Nothing but the narration: a Node warning (a MaxListenersExceededWarning from abort listeners piling up) once broke into it.
    assert.doesNotMatch(first.stderr, /Warning/, first.stderr);
    const lines = first.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; beat?: number; title?: string; url?: string; story?: unknown });
    assert.deepEqual(lines.filter((l) => l.event === 'beat').map((l) => l.beat), [1, 2, 3, 4, 5, 6], 'all six beats are narrated in order');
    // The policy beat: the eager volunteer is held at their cap of 2, the vouched one gets the tier-1 task.
    const flood = lines.find((l) => l.event === 'flood') as { held?: number; refused?: number; rules?: string[]; vouched_got?: string; eager_standing?: unknown } | undefined;
    assert.deepEqual({ held: flood?.held, refused: flood?.refused, rules: flood?.rules }, { held: 2, refused: 5, rules: ['contributor_cap', 'contributor_cap', 'contributor_cap', 'contributor_cap', 'vouch_required'] });
    assert.ok(flood?.vouched_got);
    assert.deepEqual(flood?.eager_standing, { in_use: 2, cap: 2, at_cap: true }, 'policy.standings: held at the cap, as the coordinator counts it');
    assert.deepEqual(lines.filter((l) => l.event === 'beat').map((l) => l.title), BEATS.map((b) => b.title), 'each beat is announced with its number and title from the list of beats');
    assert.match(lines.find((l) => l.event === 'dashboard')!.url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(lines.some((l) => l.event === 'summary'));
    // The App route: the coordinator signed in as the demo's GitHub App and checked every PR with GitHub.
    const app = lines.find((l) => l.event === 'narration' && (l as { app?: string }).app === 'owp-demo') as { tokens_minted?: number } | undefined;
    assert.ok(app && (app.tokens_minted ?? 0) >= 1, 'the App minted an installation token at start');

    const events = readJournal(dataDir);
    assert.equal(events[0]!.seq, 1);
    const beats = checkBeats(events);
    assert.ok(beats.lockHeld.length >= 1, 'an area lock held a second task back until the first was done');
    assert.equal(beats.peak, 3, 'the review budget filled to max_open_prs');
    assert.ok(beats.fullTimes >= 1, 'max_open_prs throttled new offers');
    // The killed volunteer: the summary names it; the journal shows it registered, went offline,
    // its lease expired, and the task went to someone else who opened the PR.
    const killedLogin = (lines.find((l) => l.event === 'summary') as { killed?: string }).killed;
    assert.ok(killedLogin, 'a volunteer was killed');
    const killedId = events.find((e) => e.type === 'worker.registered' && (e.data.worker as { github_login: string }).github_login === killedLogin)!.worker_id!;
    const moved = beats.requeued.find((r) => r.from === killedId);
    assert.ok(moved, `a task of the killed worker moved to another worker: ${JSON.stringify(beats.requeued)}`);
    assert.ok(moved.fromOffline, 'the killed worker was offline when its lease expired');
    assert.ok(events.some((e) => e.type === 'pr.opened' && e.task_id === moved.task && e.worker_id === moved.to), 'the new holder opened the PR for the requeued task');
    const opened = events.filter((e) => e.type === 'pr.opened');
    assert.ok(opened.length > 0 && opened.every((e) => /^[0-9a-f]{40}$/.test(String((e.data.pr as { head_sha?: string }).head_sha))), 'each PR was verified with GitHub (its head commit recorded)');
    const merged = events.filter((e) => e.type === 'task.merged').length;
    assert.ok(merged >= 8, `most tasks were merged (${merged})`);

    // The merges are real: main in the bare remote has the merge commits and the change notes.
    const remote = join(dataDir, 'git', 'remote', 'octo-org', 'hello-owp.git');
    const log = execFileSync('git', ['--git-dir', remote, 'log', '--oneline', 'main'], { encoding: 'utf8' });
    assert.equal(log.split('\n').filter((l) => l.includes('Merge pull request')).length, merged);
    const files = execFileSync('git', ['--git-dir', remote, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).split('\n');
    assert.ok(files.some((f) => f.endsWith(`/${moved.task}.md`)), `the requeued task's change is on main: ${files.join(' ')}`);

    // Re-runnable from scratch in the same folder. The second run only has to show it started
    // afresh, so it is stopped (as Ctrl-C would) once its volunteers have joined.
    const second = await runDemo(['--speed', '50', '--data-dir', dataDir, '--keep', '--json'], 3);
    assert.equal(second.code, 0, `second demo failed:\n${second.stdout.slice(-3000)}\n${second.stderr}`);
    assert.ok(second.stdout.includes('"event":"summary"'), 'stopped early, it still ends with its summary');
    const again = readJournal(dataDir);
    assert.equal(again[0]!.seq, 1, 'the second run starts a fresh journal');
    assert.equal(again.filter((e) => e.type === 'task.created').length, 12);
    assert.equal(again.filter((e) => e.type === 'worker.registered').length, 3, 'only the second run\'s volunteers');
    const remoteLog = execFileSync('git', ['--git-dir', remote, 'log', '--oneline', 'main'], { encoding: 'utf8' });
    assert.ok(remoteLog.split('\n').filter((l) => l.includes('Merge pull request')).length < merged, 'the git remote was made afresh too');
  } finally {
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
});
