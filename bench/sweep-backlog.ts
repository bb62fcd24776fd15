/**
 * What one expiry sweep (`Engine.tick`, every 250 ms by default) costs with a large ready backlog
 * and nothing due: it should not grow with the number of live tasks.
 *
 *   node --import tsx bench/sweep-backlog.ts [--tasks 200000] [--sweeps 40]
 */
import { parseArgs } from 'node:util';
import { ManualClock } from '../coordinator/clock.ts';
import { Engine } from '../coordinator/engine/engine.ts';
import type { Principal } from '../coordinator/auth.ts';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '200000' }, sweeps: { type: 'string', default: '40' } } });
const clock = new ManualClock();
const engine = new Engine({ clock });
engine.bootstrapAdmins(['owpm_sweep']);
const admin = engine.authenticate('owpm_sweep') as Principal;
engine.execute(admin, 'repo.configure', { repo: 's/one', idempotency_key: 'r' });
for (let i = 0; i < Number(values.tasks); i += 1000) {
  const out = engine.execute(admin, 'task.create_many', { idempotency_key: `c${i}`, tasks: Array.from({ length: 1000 }, (_, k) => ({ repo: 's/one', title: `t${i + k}` })) });
  if (out.error) throw new Error(out.error.message);
}
const sweeps = Number(values.sweeps);
const t0 = performance.now();
for (let i = 0; i < sweeps; i += 1) {
  clock.advance(250);
  engine.tick();
}
console.log(JSON.stringify({ tasks: engine.state.tasks.size, idempotency_keys: engine.state.idempotency.size, ms_per_sweep: Math.round(((performance.now() - t0) / sweeps) * 100) / 100 }));
