/**
 * A busy pool through the dashboard model: thousands of tasks, hundreds of workers and a long
 * stream of journal events. Memory stays flat (caps hold) and the figures are printed, not
 * asserted, so a slow machine does not fail the build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RepoSettings, Task, Worker } from '../../protocol/model.ts';
import type { JournalEvent, JournalEventDraft } from '../../protocol/journal-events.ts';
import { DashboardModel } from '../../media/dashboard/model.ts';

const REPOS = 10;
const WORKERS = 300;
const TASKS = 3000;
const ROUNDS = 20;

test('a busy pool: 3000 tasks, 300 workers, 100k+ events fold with flat memory', () => {
  const model = new DashboardModel();
  const settings = (repo: string): RepoSettings => ({ repo, max_open_prs: 50, max_new_prs_per_hour: 100, heartbeat_timeout_ms: 30_000, lease_max_duration_ms: 7_200_000, offer_timeout_ms: 30_000, max_attempts: 3, required_gates: ['tests'], paused: false });
  model.loadRepos(Array.from({ length: REPOS }, (_, i) => ({ settings: settings(`org/repo${i}`), budget: { open_prs: 0, live_leases: 0, open_offers: 0, max_open_prs: 50, prs_last_hour: 0, max_new_prs_per_hour: 100, throttled: false }, locks: {} })));
  const workers: Worker[] = Array.from({ length: WORKERS }, (_, i) => ({ id: `W-${i + 1}`, github_login: `v${i}`, skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true }, trust: 1, online: true, capacity_used: 0, registered_at: 0, ...(i % 10 === 0 ? { x_leaderboard: true } : {}) }));
  model.loadWorkers(workers);
  let seq = 0;
  let taskCounter = 0;
  const at = Date.now();
  const ev = (draft: JournalEventDraft): JournalEvent => ({ ...draft, seq: ++seq, at });
  const newTask = (): Task => {
    taskCounter += 1;
    return { id: `T-${taskCounter}`, repo: `org/repo${taskCounter % REPOS}`, title: `task ${taskCounter}`, body: '', area: `area${taskCounter % 40}`, tier: 0, effort: 1, skills: ['docs'], priority: 0, acceptance: [], state: 'ready', attempts: 0, epoch: 0, created_at: at, updated_at: at };
  };
  model.loadTasks(Array.from({ length: TASKS }, newTask));
  const started = process.hrtime.bigint();
  let events = 0;
  let peakTasks = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const batch: JournalEvent[] = [];
    // Each round, a slice of ready tasks goes all the way through and is archived; new ones replace them.
    const ready = [...model.tasks.values()].filter((t) => t.state === 'ready').slice(0, 600);
    for (const [i, t] of ready.entries()) {
      const w = `W-${(i % WORKERS) + 1}`;
      const held = { repo: t.repo, task_id: t.id, worker_id: w };
      batch.push(ev({ type: 'offer.created', ...held, data: { offer_id: `O-${seq}`, deadline_at: at + 30_000 } }));
      if (i % 5 === 0) {
        batch.push(ev({ type: 'offer.expired', ...held, data: { offer_id: `O-${seq}`, reason: 'offer deadline passed', to: 'ready' } }));
        continue;
      }
      batch.push(ev({ type: 'lease.granted', ...held, data: { lease_id: `L-${seq}`, epoch: 1, expires_at: at + 30_000, max_deadline_at: at + 7_200_000, via: 'offer' } }));
      batch.push(ev({ type: 'task.started', ...held, data: { lease_id: `L-${seq}` } }));
      batch.push(ev({ type: 'pr.opened', ...held, data: { lease_id: `L-${seq}`, pr: { url: 'https://x.test/pr', gates: [] } } }));
      batch.push(ev({ type: 'task.merged', repo: t.repo, task_id: t.id, data: { by: 'maintainer', outcome: 'merged' } }));
      batch.push(ev({ type: 'task.archived', repo: t.repo, task_id: t.id, data: { task: t } }));
      const fresh = newTask();
      batch.push(ev({ type: 'task.created', repo: fresh.repo, task_id: fresh.id, data: { task: fresh } }));
    }
    // Delivered as the socket does: in chunks.
    for (let i = 0; i < batch.length; i += 200) model.applyEvents(batch.slice(i, i + 200), at);
    events += batch.length;
    peakTasks = Math.max(peakTasks, model.tasks.size);
    // What a render reads, once per round.
    model.tasksByState();
    model.leases();
    model.locksByRepo();
    model.holdings();
    model.leaderboard();
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`busy model: ${events} events in ${ms.toFixed(0)} ms (${((ms / events) * 1000).toFixed(1)} µs/event), peak tasks ${peakTasks}, feed ${model.feed.length}, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
  assert.ok(events > 50_000, `${events} events`);
  assert.ok(model.feed.length <= 500);
  assert.ok(peakTasks <= TASKS + 200, `tasks stay bounded (peak ${peakTasks})`);
  assert.equal(model.seq, seq);
  assert.equal(model.leaderboard().length, WORKERS / 10);
});
