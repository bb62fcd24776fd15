/**
 * task.explain (SPEC EXPLAIN-001): why a task is or is not being offered, from the same eligibility
 * checks the scheduler runs, and to how many workers it could go; with a worker id, every repo
 * policy rule's verdict for that worker (the dry run of `owp policy explain`).
 */
import type { Reasoned } from '../../protocol/model.ts';
import type { Result } from '../../protocol/operations.ts';
import { ACTIVE_STATES, LEASED_STATES, isTerminal } from '../../protocol/states.ts';
import { areasOverlap } from '../../protocol/area-inference.ts';
import type { RepoRuntime, TaskRecord, WorkerRuntime } from '../state/records.ts';
import { knownRepo, liveTask } from './access.ts';
import type { Command } from './command.ts';
import type { PolicyVerdict } from './options.ts';

export function explain(cmd: Command, taskId: string, workerId?: string): Result<'task.explain'> {
  const { state, eligibility } = cmd;
  const task = liveTask(state, taskId);
  const repo = knownRepo(state, task.repo);
  const verdicts = workerId ? policyVerdicts(cmd, task, repo, workerId) : undefined;
  const found = warnings(cmd, task);
  const policy = { ...(verdicts ? { policy: verdicts } : {}), ...(found.length > 0 ? { warnings: found } : {}) };
  if (task.state !== 'ready') {
    const reason: Reasoned = { code: `state_${task.state}`, message: `task is ${task.state}${task.blocked_reason ? `: ${task.blocked_reason}` : ''}` };
    return { task_id: task.id, state: task.state, offerable: false, reasons: [reason], eligible_workers: 0, ...policy };
  }
  const reasons = eligibility.repoReasons(task, repo, cmd.now, { alreadyCounted: false });
  let eligible = 0;
  const tally = new Map<string, { count: number; reason: Reasoned }>();
  const workers = workerId ? [state.workers.get(workerId)].filter((w): w is WorkerRuntime => w !== undefined) : [...state.workers.values()];
  for (const w of workers) {
    if (w.record.revoked) continue;
    const wr = eligibility.workerReasons(task, w, { holdingTask: false, forOffer: true });
    if (wr.length === 0) {
      eligible += 1;
      continue;
    }
    for (const r of wr) {
      const key = r.code === 'skills' ? `skills:${JSON.stringify(r.details?.missing)}` : r.code;
      const entry = tally.get(key) ?? { count: 0, reason: r };
      entry.count += 1;
      tally.set(key, entry);
    }
  }
  if (eligible === 0) {
    if (workers.length === 0) reasons.push({ code: 'no_workers', message: workerId ? `no worker ${workerId}` : 'no workers have joined the pool' });
    else {
      const top = [...tally.values()].sort((a, b) => b.count - a.count)[0];
      const why = top ? summarizeWorkerReason(task, top.reason) : 'no eligible worker';
      reasons.push({ code: 'no_eligible_worker', message: why, details: { workers_considered: workers.length, reasons: [...tally.values()].map((t) => ({ ...t.reason, workers: t.count })) } });
    }
  }
  return { task_id: task.id, state: task.state, offerable: reasons.length === 0, reasons, eligible_workers: eligible, ...policy };
}

/** The dry run of a repo's policy for one worker: every rule, passed or not, budget rules included. */
function policyVerdicts(cmd: Command, task: TaskRecord, repo: RepoRuntime, workerId: string): PolicyVerdict[] | undefined {
  const w = cmd.state.workers.get(workerId);
  if (!w) return undefined;
  const verdicts = cmd.options.explainPolicy?.({ task, worker: w.record, repo: repo.settings, state: cmd.state }) ?? [];
  for (const v of cmd.eligibility.budgetVerdicts(repo, cmd.now, ACTIVE_STATES.includes(task.state))) {
    verdicts.push({ rule: v.rule, passed: !v.over, message: v.over ? v.reason.message : `within ${v.rule} ${repo.settings[v.rule]}`, ...(v.report ? { mode: 'report' as const } : {}) });
  }
  return verdicts;
}

/** One sentence for the most common reason no worker qualifies. */
function summarizeWorkerReason(task: TaskRecord, r: Reasoned): string {
  switch (r.code) {
    case 'skills': {
      const missing = r.details?.missing;
      return `no worker with skill ${(Array.isArray(missing) ? missing : task.skills).join(', ')}`;
    }
    case 'capacity':
      return `no worker with ${task.effort} free capacity points`;
    case 'trust':
      return `no worker with trust ≥ ${task.tier}`;
    case 'offline':
      return 'no eligible worker is online';
    case 'repo':
      return `no worker works on ${task.repo} (each declared other repos)`;
    default:
      return `no eligible worker (${r.message})`;
  }
}

/**
 * Warnings that stop nothing: the task's PR strays beyond its area (x_github.lane, recorded by a
 * coordinator that verifies PRs), and live leases on areas that contain or are inside the task's
 * area (the area lock keeps two tasks off one area, not off a parent and its child).
 */
function warnings(cmd: Command, task: TaskRecord): Reasoned[] {
  const out: Reasoned[] = [];
  const lane = (task.pr as { x_github?: { lane?: { task_area?: string; stray?: string[]; unmatched?: string[]; verdict?: string } } } | undefined)?.x_github?.lane;
  if (lane && (lane.verdict === 'flagged' || lane.verdict === 'allowed')) {
    const stray = lane.stray ?? [];
    const unmatched = lane.unmatched ?? [];
    out.push({
      code: 'pr_lane',
      message: `the PR strays beyond area ${lane.task_area}: ${[...(stray.length > 0 ? [`touches ${stray.join(', ')}`] : []), ...(unmatched.length > 0 ? [`${unmatched.length} path(s) no area owns`] : [])].join(' and ')}${lane.verdict === 'flagged' ? ' (flagged by policy rule pr_lane)' : ''}`,
      details: { rule: 'pr_lane', task_area: lane.task_area, stray, unmatched, verdict: lane.verdict },
    });
  }
  if (task.area !== undefined && !isTerminal(task.state)) {
    for (const other of cmd.state.tasks.values()) {
      if (other.id === task.id || other.repo !== task.repo || other.area === undefined || other.area === task.area) continue;
      if (!LEASED_STATES.includes(other.state) || !areasOverlap(other.area, task.area)) continue;
      out.push({ code: 'lease_overlap', message: `${other.id} (area ${other.area}) holds a live lease likely to touch the same paths as area ${task.area}`, details: { task_id: other.id, area: other.area } });
    }
  }
  return out;
}
