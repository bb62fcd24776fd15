/** `owp status`: this clone's worker, its live leases and offers, and where each task is checked out. */
import { resolve } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { oneLine } from '../../client/prompt.ts';
import { prProgress, type PrPhase } from '../../client/checks-wait.ts';
import { checkLine, checksSummary } from '../../client/pr-checks.ts';
import { checkLines } from '../checks-report.ts';
import { readSubmitted, submittedSummary } from '../../client/submitted-prs.ts';
import { OwpError } from '../../protocol/errors.ts';
import { parse } from '../args.ts';
import { Output } from '../output.ts';
import { formatCapacity, formatHeartbeat, formatLeaseDeadline, formatSpan, heartbeatTimeoutOf } from '../../protocol/vocabulary.ts';
import { requireState, stateFilePath, LOCAL_WORKER_FLAGS } from '../worker-state.ts';

export const USAGE = `Usage: owp status [--json] [--repo-dir DIR]

Shows the worker that joined from this clone: online or not, skills, capacity, the repos it works
on, the tasks it holds (repo, lease, its hard deadline and heartbeat, branch, worktree) and open
offers, a submitted PR's required CI checks with their links, and the PRs it opened over the
last 14 days (open, in review / merged / closed, with their checks). Capacity counts leases and open offers alike, as the coordinator does. --json prints one object for scripts.`;

const PHASE: Record<PrPhase, string> = {
  none: '',
  waiting: 'waiting for CI',
  failed: 'a required check failed: fix, commit, owp submit again',
  timed_out: 'CI missed the checks deadline: keep owp worker running',
  counted: 'counts',
  gone: 'no longer yours',
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...LOCAL_WORKER_FLAGS,
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const here = resolve(values['repo-dir'] ?? process.cwd());
  const stateFile = await stateFilePath(here, values.state);
  const state = await requireState(stateFile);
  const http = new HttpClient({ baseUrl: state.coordinator, token: state.token });
  const status = await http.call('worker.status', {});
  const tasks = await Promise.all(status.leases.map(async (l) => ({ lease: l, task: (await http.call('task.get', { task_id: l.task_id })).task, local: state.tasks[l.task_id] })));
  // A coordinator older than SPEC WORKER-004 has no `worker.prs`: the section is left out, not faked.
  const submitted = await readSubmitted((params) => http.call('worker.prs', params)).catch((error: unknown) => {
    if (error instanceof OwpError && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED')) return undefined;
    throw error;
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ coordinator: state.coordinator, state_file: stateFile, worker: status.worker, leases: tasks.map((t) => ({ ...t.lease, task: t.task, branch: t.local?.branch, dir: t.local?.dir })), offers: status.offers, ...(submitted ? { submitted: submitted.prs } : {}) })}\n`);
    return 0;
  }
  const out = new Output();
  const c = out.colors;
  const w = status.worker;
  const now = Date.now();
  out.block(`${c.bold(`${w.id} @${w.github_login}`)} on ${state.coordinator} · ${w.online ? c.green('online') : c.yellow('offline (owp worker is not running)')}`);
  const leased = tasks.reduce((sum, t) => sum + t.task.effort, 0);
  const offered = status.offers.reduce((sum, o) => sum + o.task.effort, 0);
  out.block(`  skills ${w.skills.join(', ') || 'none'} · capacity ${formatCapacity({ capacity: w.capacity, leased, offered })} · trust ${w.trust} · tools ${w.tools.join(', ')}`);
  out.block(`  works on ${w.repos?.length ? w.repos.join(', ') : 'any repo'}`);
  if (tasks.length === 0) out.block(c.dim('  no tasks held'));
  for (const { lease, task, local } of tasks) {
    out.block(`  ${c.cyan(task.id)} ${task.repo} ${task.state} "${oneLine(task.title, 70)}" · lease ${lease.lease_id} · ${formatLeaseDeadline(lease.max_deadline_at, now)} · ${formatHeartbeat(lease.expires_at, heartbeatTimeoutOf(lease), now)}`);
    out.block(local ? `      ${local.branch}  ${local.dir}` : c.yellow('      not checked out from this clone'));
    const progress = prProgress(task);
    if (progress.phase !== 'none') {
      const checks = progress.checks ? checksSummary(progress.checks.checks) : '';
      out.block(`      PR ${progress.pr?.url ?? ''} · ${PHASE[progress.phase]}${checks ? ` · ${checks}` : ''}`);
      for (const line of checkLines(progress)) out.block(`        ${line}`);
    }
  }
  if (submitted && submitted.prs.length > 0) {
    out.block(c.bold('  Submitted'));
    for (const pr of submitted.prs) {
      const paint = pr.state === 'merged' ? c.green : pr.state === 'closed' ? c.yellow : (text: string) => text;
      out.block(`  ${c.cyan(pr.task_id)} ${pr.repo} "${oneLine(pr.title, 70)}" · ${paint(submittedSummary(pr))}`);
      out.block(`      ${pr.pr.url}`);
      if (pr.checks) for (const check of pr.checks.checks) out.block(`        ${checkLine(check)}`);
    }
  }
  for (const offer of status.offers) out.block(`  offer ${offer.offer_id}: ${offer.task_id} ${offer.repo} "${oneLine(offer.task.title, 60)}" · ${formatSpan(offer.deadline_at - now)} to accept (in owp worker)`);
  return 0;
}
