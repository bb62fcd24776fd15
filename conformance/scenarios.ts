/** Small flows many conformance tests start from, built from wire operations only. */
import type { Lease, Offer, Task } from '../protocol/model.ts';
import { check, expectOk } from './expect.ts';
import { PASSING_GATES, type KitWorker, type World, type WorkerOptions } from './world.ts';

export interface Leased {
  repo: string;
  task: Task;
  worker: KitWorker;
  lease: Lease;
}

/**
 * A task leased by direct claim to a worker that is registered but not connected (so no offer
 * races the claim); the worker's calls go over HTTP. Pass `online` to connect it after the claim.
 */
export async function claimedTask(world: World, options: { repo?: string; settings?: Record<string, unknown>; task?: Record<string, unknown>; worker?: WorkerOptions } = {}): Promise<Leased> {
  const repo = options.repo ?? (await world.repo(options.settings));
  const task = await world.task(repo, options.task);
  const worker = await world.worker({ ...options.worker, connect: false });
  const { lease, task: leasedTask } = expectOk<{ lease: Lease; task: Task }>(await worker.http('task.claim', { task_id: task.id }), `claim of ${task.id}`);
  return { repo, task: leasedTask, worker, lease };
}

/** A task offered to a connected worker and accepted by it. */
export async function acceptedTask(world: World, options: { repo?: string; settings?: Record<string, unknown>; task?: Record<string, unknown>; worker?: WorkerOptions } = {}): Promise<Leased & { offer: Offer }> {
  const repo = options.repo ?? (await world.repo(options.settings));
  const worker = await world.worker(options.worker);
  const task = await world.task(repo, options.task);
  const offer = await worker.nextOffer(task.id);
  const { lease, task: leasedTask } = await worker.accept(offer);
  return { repo, task: leasedTask, worker, lease, offer };
}

/** Reports pr_opened with passing gates under a lease, over HTTP. */
export async function openPr(worker: KitWorker, lease: Lease, extra: Record<string, unknown> = {}): Promise<Task> {
  const ack = await worker.http('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/example/repo/pull/${lease.epoch}`, gates: PASSING_GATES, ...extra } });
  return expectOk<{ task: Task }>(ack, `pr_opened under ${lease.lease_id}`).task;
}

/** Journal events about one task after a sequence number (read with the repo filter, so a long journal stays cheap). */
export async function taskEvents(world: World, afterSeq: number, task: { id: string; repo: string }): Promise<Array<{ seq: number; at: number; type: string; worker_id?: string; data: Record<string, unknown> }>> {
  return (await world.journal(afterSeq, task.repo)).filter((e) => e.task_id === task.id);
}

export function checkState(task: Task, state: string, what: string): void {
  check(task.state === state, `${what}: expected the task to be ${state}, it is ${task.state}`);
}
