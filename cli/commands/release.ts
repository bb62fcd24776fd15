/** `owp release`: give a held task back to the pool (it returns to ready and counts an attempt). */
import { resolve } from 'node:path';
import { OwpError } from '../../protocol/errors.ts';
import { HttpClient } from '../../client/http-client.ts';
import { currentBranch, isGitRepo, repoRoot } from '../../client/git.ts';
import { parse } from '../args.ts';
import { Output } from '../output.ts';
import { findHeldTask, requireState, stateFilePath, updateState, LOCAL_WORKER_FLAGS } from '../worker-state.ts';

export const USAGE = `Usage: owp release [--task T-n] [--reason TEXT] [--json]

Gives a task back: the coordinator requeues it for another volunteer. Run it in the task's
worktree, or pass --task. The worktree and branch stay on disk; remove them with
\`git worktree remove DIR\` when you no longer need them.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    task: { type: 'string' },
    reason: { type: 'string' },
    ...LOCAL_WORKER_FLAGS,
  }, USAGE);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const out = new Output({ json: Boolean(values.json) });
  const here = resolve(values['repo-dir'] ?? process.cwd());
  const stateFile = await stateFilePath(here, values.state);
  const state = await requireState(stateFile);
  const http = new HttpClient({ baseUrl: state.coordinator, token: state.token });
  const inRepo = await isGitRepo(here);
  const root = inRepo ? await repoRoot(here) : undefined;
  const branch = root ? await currentBranch(root) : undefined;
  let taskId = values.task;
  let leaseId: string | undefined;
  let epoch: number | undefined;
  try {
    const held = findHeldTask(state, { ...(taskId ? { taskId } : {}), ...(root ? { dir: root } : {}), ...(branch ? { branch } : {}) });
    taskId = held.task_id;
    leaseId = held.lease_id;
    epoch = held.epoch;
  } catch (error) {
    // Not in the state file (e.g. it was lost): the coordinator's view of our leases still works.
    if (!taskId) throw error;
  }
  if (!leaseId) {
    const { leases } = await http.call('worker.status', {});
    const lease = leases.find((l) => l.task_id === taskId);
    if (!lease) throw new OwpError('NOT_FOUND', `This worker holds no lease on ${taskId}.`);
    leaseId = lease.lease_id;
    epoch = lease.epoch;
  }
  try {
    const { task } = await http.call('lease.release', { lease_id: leaseId, epoch: epoch!, ...(values.reason ? { reason: values.reason } : {}) });
    out.success(`Released ${taskId}; it is ${task.state} again for another volunteer.`, { task_id: taskId, task_state: task.state });
  } catch (error) {
    if (!(error instanceof OwpError && (error.code === 'LEASE_EXPIRED' || error.code === 'STALE_EPOCH'))) throw error;
    out.warn(`${taskId} was no longer yours (${error.code}); nothing to release.`, { task_id: taskId, code: error.code });
  }
  await updateState(stateFile, (s) => {
    if (taskId) delete s.tasks[taskId];
  });
  out.event('released', { task_id: taskId });
  return 0;
}
