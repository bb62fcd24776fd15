/**
 * What the in-process benches (bench/cycle-inprocess.ts, bench/transition-cost.ts) share: repos and
 * tasks created through the runtime, and each worker's next offer read from its notifications.
 */
import type { Principal } from '../../coordinator/auth.ts';
import type { Runtime } from '../../coordinator/runtime.ts';
import type { OperationName } from '../../protocol/operations.ts';

export type Call = (p: Principal, name: OperationName, params: Record<string, unknown>) => Promise<any>;

/** `tasks` ready tasks of one skill, round-robin over repos of `perRepo` tasks each, created 500 at a time. */
export async function seedTasks(call: Call, admin: Principal, o: { prefix: string; tasks: number; perRepo: number; skill: string; gates: string[] }): Promise<void> {
  const repos = Math.ceil(o.tasks / o.perRepo);
  for (let r = 0; r < repos; r += 1) {
    await call(admin, 'repo.configure', { repo: `bench/${o.prefix}-${r}`, max_open_prs: 1000, max_new_prs_per_hour: 1000, max_attempts: 20, heartbeat_timeout_ms: 30_000, required_gates: o.gates });
  }
  for (let i = 0; i < o.tasks; i += 500) {
    await call(admin, 'task.create_many', { tasks: Array.from({ length: Math.min(500, o.tasks - i) }, (_, k) => ({ repo: `bench/${o.prefix}-${(i + k) % repos}`, title: `${o.prefix} task ${i + k}`, skills: [o.skill] })) });
  }
}

/** Each worker's offers as they are pushed: `nextOffer(id)` answers the one waiting, or waits for the next. */
export function offerWaiter(runtime: Runtime): (workerId: string) => Promise<string> {
  const waiting = new Map<string, (offerId: string) => void>();
  const pending = new Map<string, string>();
  runtime.on('notify', (n) => {
    if (n.name !== 'offer.created') return;
    const offerId = (n.payload as { offer: { offer_id: string } }).offer.offer_id;
    const resolve = waiting.get(n.workerId);
    if (resolve) {
      waiting.delete(n.workerId);
      resolve(offerId);
    } else pending.set(n.workerId, offerId);
  });
  return (id) => {
    const ready = pending.get(id);
    if (ready) {
      pending.delete(id);
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => waiting.set(id, resolve));
  };
}
