/**
 * Offer pipelining through the reference worker client (SPEC OFFER-009, OFFER-010): a client with
 * `maxOpenOffers` learns the coordinator's capability, declares its window in hello and holds that
 * many offers at once; a client without it (as an OWP 0.1 client) holds one, and gets its next
 * offer right after its accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../client/worker-client.ts';
import type { Offer } from '../../protocol/model.ts';
import { startPool, until } from '../helpers/coordinator.ts';

const PROFILE = { skills: ['docs'], tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };

test('a client with maxOpenOffers holds that many offers; one without holds one and gets the next after its accept', async () => {
  const pool = await startPool('memory');
  const clients: WorkerClient[] = [];
  try {
    await pool.repo('acme/site', { max_open_prs: 20, max_new_prs_per_hour: 20 });
    const tasks: string[] = [];
    for (let i = 0; i < 6; i += 1) tasks.push((await pool.admin.call('task.create', { repo: 'acme/site', title: `t${i}`, skills: ['docs'], idempotency_key: `pl${i}` })).task.id);
    const piped = new WorkerClient({ url: pool.url, token: (await WorkerClient.register(pool.url, { github_login: 'pia', capacity: 4, ...PROFILE })).token, maxOpenOffers: 3 });
    clients.push(piped);
    const pipedOffers: Offer[] = [];
    piped.on('offer', (o) => pipedOffers.push(o));
    const hello = await piped.connect();
    assert.ok(hello.coordinator.capabilities?.includes('offer-pipelining'), 'the coordinator declares the capability');
    assert.equal(hello.worker?.max_open_offers, 3, 'the window reached the coordinator in hello');
    await until(() => pipedOffers.length === 3, 'three offers pushed without an answer');
    assert.equal((await piped.request('offer.list', {})).offers.length, 3);

    const plain = new WorkerClient({ url: pool.url, token: (await WorkerClient.register(pool.url, { github_login: 'olli', capacity: 2, ...PROFILE })).token });
    clients.push(plain);
    const plainOffers: Offer[] = [];
    plain.on('offer', (o) => plainOffers.push(o));
    const plainHello = await plain.connect();
    assert.equal(plainHello.worker?.max_open_offers, undefined, 'no window declared: one offer at a time');
    await until(() => plainOffers.length === 1, 'the plain client is offered a task');
    assert.equal((await plain.request('offer.list', {})).offers.length, 1, 'one open offer, though its capacity is 2');
    await plain.accept((plainOffers[0] as Offer).offer_id);
    // OFFER-010: nothing else changes; the accept alone brings the next offer.
    await until(() => plainOffers.length === 2, 'the next offer follows the accept');
    const offered = new Set([...pipedOffers, ...plainOffers].map((o) => o.task_id));
    assert.equal(offered.size, 5, 'five distinct tasks offered');
  } finally {
    for (const c of clients) c.close();
    await pool.close();
  }
});
