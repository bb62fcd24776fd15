/**
 * The task state machine (SPEC §6): every row of the transition table is driven through the wire
 * and observed, a sample of forbidden changes is refused, attempts and terminal states behave.
 */
import type { Lease, Offer, Task } from '../../protocol/model.ts';
import { TRANSITIONS, type TaskState } from '../../protocol/states.ts';
import { check, checkEqual, expectError, expectOk } from '../expect.ts';
import type { ConformanceTest, Suite } from '../types.ts';
import type { KitWorker, World } from '../world.ts';
import { claimedTask, openPr } from '../scenarios.ts';

type TaskAck = { task: Task };

interface Setup {
  repo: string;
  task: Task;
  skill: string;
  worker?: KitWorker;
  offer?: Offer;
  lease?: Lease;
}

let unique = 0;

/** Puts a fresh task into a state, with a skill of its own so only this setup's workers see it. */
async function taskIn(world: World, repo: string, state: TaskState): Promise<Setup> {
  unique += 1;
  const skill = `${world.skill}-s${unique}`;
  const task = await world.task(repo, { skills: [skill] });
  if (state === 'ready') return { repo, task, skill };
  if (state === 'blocked') return { repo, task: (await world.admin('task.block', { task_id: task.id, reason: 'set up blocked' })).task, skill };
  if (state === 'offered') {
    const worker = await world.worker({ skills: [skill] });
    const offer = await worker.nextOffer(task.id);
    // The offer.created push is the proof: re-reading could already see a short offer expired.
    return { repo, task: { ...task, state: 'offered' }, skill, worker, offer };
  }
  const worker = await world.worker({ skills: [skill], connect: false });
  const { lease } = expectOk<{ lease: Lease }>(await worker.http('task.claim', { task_id: task.id }), `claim of ${task.id}`);
  const ref = { lease_id: lease.lease_id, epoch: lease.epoch };
  if (state === 'in_progress') expectOk(await worker.http('lease.report', { ...ref, state: 'in_progress' }), 'in_progress');
  if (state === 'pr_opened' || state === 'merged') await openPr(worker, lease);
  if (state === 'merged') await world.admin('task.complete', { task_id: task.id, outcome: 'merged' });
  return { repo, task: await world.getTask(task.id), skill, worker, lease };
}

type Act = (world: World, s: Setup) => Promise<Task | void>;

const ref = (s: Setup): { lease_id: string; epoch: number } => ({ lease_id: (s.lease as Lease).lease_id, epoch: (s.lease as Lease).epoch });
const byWorker = async (s: Setup, name: Parameters<KitWorker['http']>[0], params: Record<string, unknown>): Promise<Task> => expectOk<TaskAck>(await (s.worker as KitWorker).http(name, params), name).task;

/** How to cause each transition of the table, keyed by `from>to:cause`. */
const CAUSES: Record<string, Act> = {
  'ready>offered:offer': async (world, s) => {
    const w = await world.worker({ skills: [s.skill] });
    await w.nextOffer(s.task.id);
  },
  'offered>leased:accept': async (_w, s) => (await (s.worker as KitWorker).accept(s.offer as Offer)).task,
  // Direct leases (OFFER-011): a worker that takes every offer is granted the task without one.
  'ready>leased:direct': async (world, s) => {
    const w = await world.worker({ skills: [s.skill], connect: false });
    await w.reconnect({ profile: { accept_offers: 'auto' } });
    const granted = await w.socket.waitFor('lease.granted', (p) => (p.task as Task).id === s.task.id, 5000);
    return granted.task as Task;
  },
  'ready>leased:claim': async (world, s) => {
    const w = await world.worker({ skills: [s.skill], connect: false });
    return expectOk<TaskAck>(await w.http('task.claim', { task_id: s.task.id }), 'claim').task;
  },
  'offered>ready:decline': async (_w, s) => expectOk<TaskAck>(await (s.worker as KitWorker).call('offer.decline', { offer_id: (s.offer as Offer).offer_id }), 'decline').task,
  'offered>ready:offer_expired': async (world, s) => {
    await (s.worker as KitWorker).socket.waitFor('offer.withdrawn', (p) => p.offer_id === s.offer?.offer_id, 5000);
    const t = await world.getTask(s.task.id);
    // A coordinator may offer the task again at once; what matters is that this offer ended and the task went back to ready.
    check(t.state === 'ready' || (t.state === 'offered' && t.offer?.offer_id !== s.offer?.offer_id), `after the offer deadline the task is ${t.state}`);
    return { ...t, state: 'ready' };
  },
  'offered>ready:offer_withdrawn': async (world, s) => {
    (s.worker as KitWorker).socket.close();
    return world.untilState(s.task.id, 'ready', 5000);
  },
  'leased>in_progress:start': async (_w, s) => byWorker(s, 'lease.report', { ...ref(s), state: 'in_progress' }),
  'leased>pr_opened:pr_opened': async (_w, s) => openPr(s.worker as KitWorker, s.lease as Lease),
  'in_progress>pr_opened:pr_opened': async (_w, s) => openPr(s.worker as KitWorker, s.lease as Lease),
  'leased>ready:release': async (_w, s) => byWorker(s, 'lease.release', ref(s)),
  'in_progress>ready:release': async (_w, s) => byWorker(s, 'lease.release', ref(s)),
  'leased>ready:lease_expired': async (world, s) => world.untilState(s.task.id, 'ready', 10_000),
  'in_progress>ready:lease_expired': async (world, s) => world.untilState(s.task.id, 'ready', 10_000),
  'leased>ready:lease_cancelled': async (world, s) => (await world.admin('lease.cancel', { lease_id: (s.lease as Lease).lease_id })).task,
  'in_progress>ready:lease_cancelled': async (world, s) => (await world.admin('lease.cancel', { lease_id: (s.lease as Lease).lease_id })).task,
  'offered>blocked:max_attempts': async (_w, s) => expectOk<TaskAck>(await (s.worker as KitWorker).call('offer.decline', { offer_id: (s.offer as Offer).offer_id }), 'decline').task,
  'leased>blocked:max_attempts': async (_w, s) => byWorker(s, 'lease.release', ref(s)),
  'in_progress>blocked:max_attempts': async (_w, s) => byWorker(s, 'lease.release', ref(s)),
  'leased>blocked:worker_blocked': async (_w, s) => byWorker(s, 'lease.report', { ...ref(s), state: 'blocked', reason: 'needs a decision' }),
  'in_progress>blocked:worker_blocked': async (_w, s) => byWorker(s, 'lease.report', { ...ref(s), state: 'blocked', reason: 'needs a decision' }),
  'ready>blocked:maintainer_blocked': async (world, s) => (await world.admin('task.block', { task_id: s.task.id, reason: 'hold' })).task,
  'offered>blocked:maintainer_blocked': async (world, s) => (await world.admin('task.block', { task_id: s.task.id, reason: 'hold' })).task,
  'leased>blocked:maintainer_blocked': async (world, s) => (await world.admin('task.block', { task_id: s.task.id, reason: 'hold' })).task,
  'in_progress>blocked:maintainer_blocked': async (world, s) => (await world.admin('task.block', { task_id: s.task.id, reason: 'hold' })).task,
  'blocked>ready:unblock': async (world, s) => (await world.admin('task.unblock', { task_id: s.task.id })).task,
  'pr_opened>merged:merged': async (world, s) => (await world.admin('task.complete', { task_id: s.task.id, outcome: 'merged' })).task,
  'pr_opened>closed:closed': async (world, s) => (await world.admin('task.complete', { task_id: s.task.id, outcome: 'closed' })).task,
};
for (const from of ['ready', 'offered', 'leased', 'in_progress', 'blocked']) {
  CAUSES[`${from}>closed:closed`] = async (world, s) => (await world.admin('task.cancel', { task_id: s.task.id, reason: 'not needed' })).task;
}

/** Settings a row needs: one attempt left for max_attempts rows, a short heartbeat for expiry rows. */
function settingsFor(cause: string): Record<string, unknown> {
  if (cause === 'max_attempts') return { max_attempts: 1 };
  if (cause === 'lease_expired') return { heartbeat_timeout_ms: 4000 };
  if (cause === 'offer_expired') return { offer_timeout_ms: 1000 };
  return { offer_timeout_ms: 30_000, heartbeat_timeout_ms: 30_000 };
}

/** Causes of a transition that only a coordinator declaring a capability makes. */
const CAPABILITY: Partial<Record<string, string>> = { direct: 'direct-leases' };

function allowedTransitionsFrom(from: TaskState): ConformanceTest {
  const allRows = TRANSITIONS.filter((t) => t.from === from);
  return {
    requirement: 'STATE-001',
    title: `every allowed transition from ${from} (${allRows.map((r) => `→${r.to} by ${r.cause}${CAPABILITY[r.cause] ? ` with ${CAPABILITY[r.cause]}` : ''}`).join(', ')})`,
    timeoutMs: 40_000,
    async run(world) {
      // A row that only an optional capability makes is driven only where it is declared (CAP-001).
      const rows = allRows.filter((r) => !CAPABILITY[r.cause] || world.info.capabilities.includes(CAPABILITY[r.cause] as string));
      const repos = new Map<string, string>();
      for (const row of rows) {
        const key = JSON.stringify(settingsFor(row.cause));
        if (!repos.has(key)) repos.set(key, await world.repo(settingsFor(row.cause)));
      }
      const failures: string[] = [];
      await Promise.all(rows.map(async (row) => {
        const name = `${row.from}>${row.to}:${row.cause}`;
        try {
          const act = CAUSES[name];
          check(act, `the kit has no way to cause ${name}`);
          const setup = await taskIn(world, repos.get(JSON.stringify(settingsFor(row.cause))) as string, row.from);
          checkEqual(setup.task.state, row.from, `${name}: setup`);
          const returned = await act(world, setup);
          const state = returned ? returned.state : (await world.getTask(setup.task.id)).state;
          checkEqual(state, row.to, `${name}: state after ${row.cause}`);
        } catch (error) {
          failures.push(`${name}: ${(error as Error).message}`);
        }
      }));
      check(failures.length === 0, failures.join('\n'));
    },
  };
}

export const SUITE: Suite = {
  area: 'states',
  tests: [
    ...(['ready', 'offered', 'leased', 'in_progress', 'pr_opened', 'blocked'] as const).map(allowedTransitionsFrom),
    {
      requirement: 'STATE-001',
      title: 'changes outside the table are refused with INVALID_TRANSITION naming from and to',
      async run(world) {
        const repo = await world.repo();
        const ready = await taskIn(world, repo, 'ready');
        const merged = await taskIn(world, repo, 'merged');
        const prOpened = await taskIn(world, repo, 'pr_opened');
        const blocked = await taskIn(world, repo, 'blocked');
        const claimer = await world.worker({ skills: [blocked.skill], connect: false });
        const cases: Array<[string, Promise<import('../wire.ts').HttpAck>, string]> = [
          ['unblock a ready task', world.adminRaw('task.unblock', { task_id: ready.task.id }), 'ready'],
          ['complete a ready task', world.adminRaw('task.complete', { task_id: ready.task.id, outcome: 'merged' }), 'ready'],
          ['cancel a merged task', world.adminRaw('task.cancel', { task_id: merged.task.id }), 'merged'],
          ['block a task with an open PR', world.adminRaw('task.block', { task_id: prOpened.task.id, reason: 'no' }), 'pr_opened'],
          ['claim a blocked task', claimer.http('task.claim', { task_id: blocked.task.id }), 'blocked'],
        ];
        for (const [what, pending, from] of cases) {
          const error = expectError(await pending, 'INVALID_TRANSITION', what);
          checkEqual(error.details?.from, from, `${what}: details.from`);
          check(typeof error.details?.to === 'string', `${what}: details.to is missing`);
        }
      },
    },
    {
      requirement: 'STATE-001',
      title: 'every maintainer or worker change from a state the table does not allow it from is refused, naming from and to, and changes nothing',
      timeoutMs: 40_000,
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000, heartbeat_timeout_ms: 30_000 });
        const setups = new Map<TaskState, Setup>();
        for (const state of ['ready', 'offered', 'leased', 'in_progress', 'pr_opened', 'merged', 'blocked'] as const) setups.set(state, await taskIn(world, repo, state));
        const closed = await taskIn(world, repo, 'ready');
        setups.set('closed', { ...closed, task: (await world.admin('task.cancel', { task_id: closed.task.id, reason: 'set up closed' })).task });
        // Each change, the state it leads to, and how to ask for it.
        const changes: Array<[string, TaskState, (s: Setup) => Promise<import('../wire.ts').HttpAck>]> = [
          ['task.block', 'blocked', (s) => world.adminRaw('task.block', { task_id: s.task.id, reason: 'hold' })],
          ['task.unblock', 'ready', (s) => world.adminRaw('task.unblock', { task_id: s.task.id })],
          ['task.complete merged', 'merged', (s) => world.adminRaw('task.complete', { task_id: s.task.id, outcome: 'merged' })],
          ['task.cancel', 'closed', (s) => world.adminRaw('task.cancel', { task_id: s.task.id, reason: 'no' })],
          ['task.claim', 'leased', async (s) => (await world.worker({ skills: [s.skill], connect: false })).http('task.claim', { task_id: s.task.id })],
        ];
        const failures: string[] = [];
        let tried = 0;
        for (const [from, setup] of setups) {
          for (const [what, to, ask] of changes) {
            if (TRANSITIONS.some((t) => t.from === from && t.to === to)) continue;
            tried += 1;
            const ack = await ask(setup);
            if (ack.ok || ack.error.code !== 'INVALID_TRANSITION') failures.push(`${what} of a ${from} task: expected INVALID_TRANSITION, got ${ack.ok ? 'ok' : ack.error.code}`);
            else if (ack.error.details?.from !== from || typeof ack.error.details?.to !== 'string') failures.push(`${what} of a ${from} task: details ${JSON.stringify(ack.error.details)} do not name from ${from} and to`);
          }
        }
        for (const [from, setup] of setups) {
          const now = await world.getTask(setup.task.id);
          if (now.state !== from) failures.push(`a ${from} task is ${now.state} after refused changes`);
        }
        check(tried >= 20, `only ${tried} forbidden changes tried`);
        check(failures.length === 0, failures.join('\n'));
      },
    },
    {
      requirement: 'STATE-002',
      title: 'decline and release count attempts, an expired offer does not; at max_attempts the task is blocked',
      async run(world) {
        const repo = await world.repo({ max_attempts: 2, offer_timeout_ms: 1000 });
        const w = await world.worker();
        const task = await world.task(repo);
        const first = await w.nextOffer(task.id);
        await w.socket.waitFor('offer.withdrawn', (p) => p.offer_id === first.offer_id, 5000);
        checkEqual((await world.getTask(task.id)).attempts, 0, 'attempts after an offer expired');
        // A longer deadline from here on, so a slow machine does not expire the offer the test answers.
        await world.admin('repo.configure', { repo, offer_timeout_ms: 10_000 });
        const second = await w.nextOffer(task.id, 6000).catch(() => undefined);
        let attempts: number;
        if (second) attempts = expectOk<TaskAck>(await w.call('offer.decline', { offer_id: second.offer_id }), 'decline').task.attempts;
        else {
          const c = expectOk<{ lease: Lease }>(await w.call('task.claim', { task_id: task.id }), 'claim').lease;
          attempts = expectOk<TaskAck>(await w.call('lease.release', { lease_id: c.lease_id, epoch: c.epoch }), 'release').task.attempts;
        }
        checkEqual(attempts, 1, 'attempts after a decline or release');
        w.socket.close();
        const other = await world.worker({ connect: false });
        const ready = await world.untilState(task.id, 'ready', 5000);
        checkEqual(ready.attempts, 1, 'attempts');
        const lease = expectOk<{ lease: Lease }>(await other.http('task.claim', { task_id: task.id }), 'claim').lease;
        const last = expectOk<TaskAck>(await other.http('lease.release', { lease_id: lease.lease_id, epoch: lease.epoch }), 'release').task;
        checkEqual([last.state, last.attempts], ['blocked', 2], 'after the second attempt with max_attempts 2');
      },
    },
    {
      requirement: 'STATE-002',
      title: 'a decline on the last attempt leaves the task blocked',
      async run(world) {
        const repo = await world.repo({ max_attempts: 1, offer_timeout_ms: 30_000 });
        const w = await world.worker();
        const task = await world.task(repo);
        const offer = await w.nextOffer(task.id);
        const declined = expectOk<TaskAck>(await w.call('offer.decline', { offer_id: offer.offer_id }), 'decline').task;
        checkEqual([declined.state, declined.attempts], ['blocked', 1], 'state and attempts after a decline with max_attempts 1');
        checkEqual((await world.getTask(task.id)).state, 'blocked', 'task.get after the decline');
      },
    },
    {
      requirement: 'STATE-002',
      title: 'a lease that expires on the last attempt leaves the task blocked',
      async run(world) {
        const { task, lease } = await claimedTask(world, { settings: { heartbeat_timeout_ms: 1000, max_attempts: 1 } });
        const blocked = await world.untilState(task.id, 'blocked', 5000);
        checkEqual([blocked.attempts, blocked.lease], [1, undefined], `attempts and lease after ${lease.lease_id} expired on the last attempt`);
      },
    },
    {
      requirement: 'STATE-003',
      title: 'merged and closed are terminal and stay readable through task.get',
      async run(world) {
        const repo = await world.repo();
        const merged = await taskIn(world, repo, 'merged');
        checkEqual((await world.getTask(merged.task.id)).state, 'merged', 'task.get of a merged task');
        expectError(await world.adminRaw('task.cancel', { task_id: merged.task.id }), 'INVALID_TRANSITION', 'cancel of a merged task');
        const closed = await taskIn(world, repo, 'ready');
        await world.admin('task.cancel', { task_id: closed.task.id });
        expectError(await world.adminRaw('task.unblock', { task_id: closed.task.id }), 'INVALID_TRANSITION', 'unblock of a closed task');
        checkEqual((await world.getTask(closed.task.id)).state, 'closed', 'task.get of a closed task');
      },
    },
  ],
};
