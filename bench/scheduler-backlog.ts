/**
 * The engine's cost per task as the backlog grows (issue 20, item 3): the same lifecycle (offer →
 * accept → PR reported → merged) run in-process on the engine, with 2,000 and with 200,000 ready
 * tasks queued behind it. No sockets and no disk: this isolates what the scheduler and the state
 * cost per task, which is what must not grow with the number of ready tasks.
 *
 *   node --import tsx bench/scheduler-backlog.ts [--backlog 2000,200000] [--tasks 4000] [--cpu-prof]
 *
 * Prints, per backlog, the lifecycle rate and the engine CPU time per task; the 200k figure should
 * be within 20 % of the 2k figure. Run it under `flock /tmp/owp-heavy.lock` like every bench.
 */
import { parseArgs } from 'node:util';
import { ManualClock } from '../coordinator/clock.ts';
import { Engine } from '../coordinator/engine/engine.ts';
import type { Principal } from '../coordinator/auth.ts';
import type { OperationName } from '../protocol/operations.ts';

const { values } = parseArgs({ options: { backlog: { type: 'string', default: '2000,200000' }, tasks: { type: 'string', default: '4000' }, skills: { type: 'string', default: '1' } } });
const BACKLOGS = values.backlog.split(',').map(Number);
const TASKS = Number(values.tasks);
const SKILL_KINDS = Math.max(1, Number(values.skills));

let key = 0;
function call(engine: Engine, principal: Principal, name: OperationName, params: Record<string, unknown>): any {
  const out = engine.execute(principal, name, name === 'offer.list' ? params : { ...params, idempotency_key: `b${(key += 1)}` });
  if (out.error) throw new Error(`${name}: ${out.error.code} ${out.error.message}`);
  return out.result;
}

function run(backlog: number): { tasksPerSecond: number; cpuUsPerTask: number; setupMs: number } {
  const clock = new ManualClock();
  const engine = new Engine({ clock });
  engine.bootstrapAdmins(['owpm_bench']);
  const admin = engine.authenticate('owpm_bench') as Principal;
  call(engine, admin, 'repo.configure', { repo: 'b/one', max_open_prs: 1000, max_new_prs_per_hour: 1000, offer_timeout_ms: 600_000, heartbeat_timeout_ms: 3_600_000, lease_max_duration_ms: 7 * 24 * 3_600_000 });
  const setup = performance.now();
  const skills = (i: number) => (SKILL_KINDS > 1 ? [`s${i % SKILL_KINDS}`] : []);
  for (let i = 0; i < backlog + TASKS; i += 1) {
    call(engine, admin, 'task.create', { repo: 'b/one', title: `t${i}`, skills: skills(i) });
    if (i % 1000 === 0) clock.advance(1);
  }
  const setupMs = performance.now() - setup;
  const workers: Principal[] = [];
  for (let i = 0; i < 8; i += 1) {
    const r = engine.execute({ kind: "anonymous" }, "worker.register", { idempotency_key: `w${i}`,
      github_login: `bench${i}`, skills: Array.from({ length: SKILL_KINDS }, (_, k) => `s${k}`), capacity: 4, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true },
    });
    if (r.error) throw new Error(r.error.message);
    const id = (r.result as any).worker.id as string;
    workers.push({ kind: 'worker', id });
    engine.connected(id);
  }
  engine.schedule();
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (done < TASKS) {
    for (const w of workers) {
      const offers = call(engine, w, 'offer.list', {}).offers as Array<{ offer_id: string }>;
      for (const o of offers) {
        const { lease } = call(engine, w, 'offer.accept', { offer_id: o.offer_id });
        call(engine, w, 'lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url: `https://github.com/b/one/pull/${done}`, gates: [{ name: 'tests', passed: true }] } });
        call(engine, admin, 'task.complete', { task_id: lease.task_id, outcome: 'merged' });
        done += 1;
        // 1,000 PRs an hour is the highest hourly budget a repo may have: time moves so it never binds.
        clock.advance(3700);
        engine.schedule();
      }
    }
    engine.schedule();
  }
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { tasksPerSecond: Math.round((done / elapsed) * 1000), cpuUsPerTask: Math.round((cpu.user + cpu.system) / done), setupMs: Math.round(setupMs) };
}

for (const backlog of BACKLOGS) {
  const r = run(backlog);
  console.log(JSON.stringify({ backlog, tasks: TASKS, skill_kinds: SKILL_KINDS, ...r }));
}
