/**
 * Direct leases (SPEC OFFER-011, OFFER-012; capability `direct-leases`): a worker that declares
 * `accept_offers: "auto"` is granted leases where it would have been offered tasks, under the rules
 * of an offer and its accept, and learns each grant by a push sent once the grant is durable.
 */
import type { Lease, Task } from '../../protocol/model.ts';
import { check, checkEqual, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import type { KitWorker, World } from '../world.ts';
import { PASSING_GATES, sleep } from '../world.ts';

type Granted = { lease: Lease; task: Task };

/** The next lease.granted pushed to `w` for a task of `tasks` that `seen` does not hold yet. */
async function nextGrant(w: KitWorker, seen: Set<string>, timeoutMs = 5000): Promise<Granted> {
  const payload = await w.socket.waitFor('lease.granted', (p) => !seen.has((p.lease as Lease).lease_id), timeoutMs);
  const granted = payload as unknown as Granted;
  seen.add(granted.lease.lease_id);
  return granted;
}

/** Starts the task of a granted lease (in_progress): it leaves the worker's window of untouched grants. */
async function start(w: KitWorker, g: Granted): Promise<void> {
  expectOk(await w.call('lease.report', { lease_id: g.lease.lease_id, epoch: g.lease.epoch, state: 'in_progress' }), `in_progress on ${g.task.id}`);
}

/**
 * A worker of this test that says hello with `accept_offers: "auto"`, and a window above one only
 * to a coordinator that also declares `offer-pipelining` (OFFER-009: elsewhere the field is unknown).
 */
async function autoWorker(world: World, capacity: number, window?: number): Promise<KitWorker> {
  const w = await world.worker({ capacity, connect: false });
  const hello = await w.reconnect({ profile: { accept_offers: 'auto', ...(window === undefined ? {} : { max_open_offers: window }) } });
  checkEqual(hello.worker?.accept_offers, 'auto', 'accept_offers the hello declared, on the worker');
  return w;
}

export const SUITE: Suite = {
  area: 'direct-leases',
  tests: [
    {
      requirement: 'OFFER-011',
      capability: 'direct-leases',
      title: 'a worker with accept_offers "auto" is granted leases without offers: one lease.granted (via direct) per task, no offer.created',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const head = await world.journalHead();
        const w = await autoWorker(world, 3);
        const tasks = [await world.task(repo), await world.task(repo)];
        const seen = new Set<string>();
        const first = await nextGrant(w, seen);
        await start(w, first);
        const grants = [first, await nextGrant(w, seen)];
        checkEqual(grants.map((g) => g.task.id).sort(), tasks.map((t) => t.id).sort(), 'the tasks granted');
        for (const g of grants) {
          checkEqual(g.lease.worker_id, w.id, 'the lease is the worker\'s');
          checkEqual(g.task.state, 'leased', `${g.task.id} as pushed`);
          checkEqual(g.task.attempts, 0, `attempts of ${g.task.id}: a grant counts none, as an accept`);
          checkEqual(g.lease.epoch, g.task.epoch, 'the lease carries the task\'s epoch');
        }
        checkEqual((await w.ok('offer.list')).offers.length, 0, 'open offers of an auto worker');
        const events = (await world.journal(head, repo)).filter((e) => tasks.some((t) => t.id === e.task_id));
        check(!events.some((e) => e.type === 'offer.created'), `no offer.created for the granted tasks: ${events.map((e) => e.type).join(', ')}`);
        const granted = events.filter((e) => e.type === 'lease.granted');
        checkEqual(granted.length, 2, 'lease.granted events');
        for (const e of granted) {
          const data = e.data as { via: string; offer_id?: string };
          checkEqual(data.via, 'direct', `via of ${e.task_id}`);
          checkEqual(data.offer_id, undefined, `offer_id of ${e.task_id}`);
        }
      },
    },
    {
      requirement: 'OFFER-011',
      capability: 'direct-leases',
      title: 'the offer window bounds the grants not yet worked on: a window of 2 holds the third task back until one is reported in_progress',
      appliesTo: (world) => (world.info.capabilities.includes('offer-pipelining') ? undefined : 'a window above one needs offer-pipelining too'),
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000 });
        const w = await autoWorker(world, 5, 2);
        const seen = new Set<string>();
        const tasks = [await world.task(repo), await world.task(repo), await world.task(repo)];
        const first = await nextGrant(w, seen);
        const second = await nextGrant(w, seen);
        // The third goes to a worker that asks: the auto worker is at its window, with capacity to spare.
        const other = await world.worker({ capacity: 5 });
        const offered = await other.nextOffer(undefined, 5000);
        check(![first, second].some((g) => g.task.id === offered.task_id), `${offered.task_id} was granted and offered`);
        checkEqual(new Set([first.task.id, second.task.id, offered.task_id]).size, 3, 'three distinct tasks');
        await other.ok('offer.decline', { offer_id: offered.offer_id, reason: 'left for the auto worker' });
        await start(w, first);
        const third = await nextGrant(w, seen);
        checkEqual(third.task.id, offered.task_id, 'the task held back is granted once a place is free');
        check(tasks.some((t) => t.id === third.task.id), 'a task of this test');
      },
    },
    {
      requirement: 'OFFER-011',
      capability: 'direct-leases',
      title: 'direct grants obey the review budget and area locks as offers do',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000, max_open_prs: 2 });
        const a = await world.task(repo, { area: 'same' });
        const b = await world.task(repo, { area: 'same' });
        const c = await world.task(repo);
        const d = await world.task(repo);
        const w = await autoWorker(world, 8);
        const seen = new Set<string>();
        const first = await nextGrant(w, seen);
        await start(w, first);
        const second = await nextGrant(w, seen);
        checkEqual([first.task.id, second.task.id], [a.id, c.id], 'the first of the area, then the next task past the locked one, in queue order');
        await start(w, second);
        // At max_open_prs 2 with a free window: a negative cannot be awaited, so give a wrong coordinator time to make a third grant.
        await sleep(500);
        checkEqual((await w.ok('worker.status')).leases.length, 2, 'leases held at the budget');
        checkEqual((await world.getTask(b.id)).state, 'ready', `${b.id} (same area as ${a.id})`);
        checkEqual((await world.getTask(d.id)).state, 'ready', `${d.id} (over the budget)`);
      },
    },
    {
      requirement: 'OFFER-012',
      capability: 'direct-leases',
      title: 'a direct lease is a lease: it heartbeats and reports, survives a disconnect, and the reconnecting worker\'s hello lists it',
      async run(world) {
        const repo = await world.repo({ offer_timeout_ms: 30_000, heartbeat_timeout_ms: 30_000 });
        const w = await autoWorker(world, 2, 1);
        const seen = new Set<string>();
        const task = await world.task(repo);
        const { lease } = await nextGrant(w, seen);
        checkEqual(lease.task_id, task.id, 'the granted task');
        expectOk(await w.call('lease.heartbeat', { lease_id: lease.lease_id, epoch: lease.epoch }), 'heartbeat of a direct lease');
        w.socket.close();
        const hello = await w.reconnect();
        checkEqual(hello.leases.map((l) => l.lease_id), [lease.lease_id], 'the hello after a disconnect lists the direct lease');
        checkEqual((await world.getTask(task.id)).state, 'leased', `${task.id} after the disconnect`);
        const pr = { url: `https://github.com/${repo}/pull/1`, gates: PASSING_GATES };
        const reported = expectOk<{ task: Task }>(await w.call('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr }), 'pr_opened on a direct lease');
        checkEqual(reported.task.state, 'pr_opened', `${task.id} after its report`);
      },
    },
  ],
};
