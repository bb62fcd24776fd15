/**
 * A deliberately non-conforming coordinator for the conformance kit's own tests: the reference
 * coordinator (coordinator/app.ts) with one test-only defect patched into its engine from the
 * outside. Nothing in the product knows about these defects.
 *
 *   node --import tsx test/conformance/defective-coordinator.ts --defect no-fencing [--capability NAME]
 *
 * Prints "OWP coordinator listening on URL"; the admin token comes from OWP_ADMIN_TOKEN.
 */
import { parseArgs } from 'node:util';
import { createCoordinator } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import type { Engine } from '../../coordinator/engine/engine.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';

type Patchable = Record<string, (...args: never[]) => unknown>;
type Reason = { code: string; details?: Record<string, number> };

/** Each defect, what it breaks, and how it is patched in. */
export const DEFECTS = {
  /** Area locks are not checked: two active tasks may share an area. */
  'no-area-locks': (engine: Engine) => {
    const e = engine.eligibility as unknown as Patchable;
    const original = e.repoReasons?.bind(engine.eligibility) as (...args: unknown[]) => Reason[];
    e.repoReasons = ((...args: unknown[]) => original(...args).filter((r) => r.code !== 'area_locked')) as never;
  },
  /** The review budget lets one more PR, lease or offer through than max_open_prs allows. */
  'budget-off-by-one': (engine: Engine) => {
    const e = engine.eligibility as unknown as Patchable;
    const original = e.repoReasons?.bind(engine.eligibility) as (task: unknown, repo: unknown, now: number, opts: { alreadyCounted: boolean }) => Reason[];
    e.repoReasons = ((task: unknown, repo: unknown, now: number, opts: { alreadyCounted: boolean }) =>
      original(task, repo, now, opts).filter((r) => {
        if (r.code !== 'budget_open_prs' || !r.details) return true;
        const d = r.details;
        return (d.open_prs ?? 0) + (d.live_leases ?? 0) + (d.open_offers ?? 0) + (opts.alreadyCounted ? 0 : 1) > (d.max_open_prs ?? 0) + 1;
      })) as never;
  },
  /** No fencing: a lease update naming any epoch is taken as if it named the current one. */
  'no-fencing': (engine: Engine) => {
    const e = engine as unknown as Patchable;
    const original = e.execute?.bind(engine) as (principal: unknown, name: string, params: Record<string, unknown>) => unknown;
    e.execute = ((principal: unknown, name: string, params: Record<string, unknown>) => {
      const lease = typeof params.lease_id === 'string' && name !== 'lease.cancel' ? engine.state.leases.get(params.lease_id) : undefined;
      const task = lease ? engine.state.tasks.get(lease.task_id) : undefined;
      return original(principal, name, task ? { ...params, epoch: task.epoch } : params);
    }) as never;
  },
  /** Idempotency keys are required but forgotten at once, so a replay runs again. */
  'idempotency-ignored': (engine: Engine) => {
    const e = engine as unknown as Patchable;
    const original = e.execute?.bind(engine) as (...args: unknown[]) => unknown;
    e.execute = ((...args: unknown[]) => {
      const outcome = original(...args);
      engine.state.idempotency.clear();
      return outcome;
    }) as never;
  },
  /** No defect: the reference as it is (used to test the kit's own gating with a declared capability). */
  none: () => undefined,
} as const satisfies Record<string, (engine: Engine) => void>;

export type DefectName = keyof typeof DEFECTS;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { defect: { type: 'string' }, capability: { type: 'string', multiple: true } } });
  const defect = values.defect as DefectName | undefined;
  if (!defect || !(defect in DEFECTS)) throw new Error(`--defect must be one of ${Object.keys(DEFECTS).join(', ')}`);
  const token = process.env.OWP_ADMIN_TOKEN;
  if (!token) throw new Error('set OWP_ADMIN_TOKEN');
  // The kit registers a worker or more per test from one address: worker.register's own limits are off.
  const rateLimits = { register: { per_second: 0, burst: 0 }, register_total: { per_second: 0, burst: 0 } };
  const coordinator = await createCoordinator({ store: new MemoryStore(), clock: new SystemClock(), adminTokens: [token], sweepIntervalMs: 250, capabilities: values.capability ?? [], rateLimits });
  DEFECTS[defect](coordinator.runtime.engine);
  const url = await coordinator.listen(0);
  console.log(`OWP coordinator listening on ${url} (defect: ${defect})`);
  const stop = (): void => void coordinator.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1]?.endsWith('defective-coordinator.ts')) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
