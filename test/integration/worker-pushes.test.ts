/**
 * A worker's notifications reach its own sockets, and only them (coordinator/worker-sockets.ts:
 * one map entry per worker instead of a socket.io room per connection), and a closed socket is not
 * kept for them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { WorkerClient } from '../../client/worker-client.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import { startPool, until, type TestPool } from '../helpers/coordinator.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Connected {
  socket: ClientSocket;
  /** Every offer pushed to this socket, by task id, in order. */
  offers: string[];
  /** The id of the offer last pushed. */
  lastOffer?: string;
}

/** Takes the offer last pushed to this socket (a worker holds one open offer at a time). */
async function accept(c: Connected): Promise<void> {
  const ack = (await c.socket.emitWithAck('offer.accept', { offer_id: c.lastOffer, idempotency_key: `accept-${c.lastOffer}` })) as { ok: boolean };
  assert.equal(ack.ok, true);
}

async function register(pool: TestPool, login: string, skills: string[]): Promise<{ id: string; token: string }> {
  const { worker, token } = await WorkerClient.register(pool.url, { github_login: login, skills, capacity: 5, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  return { id: worker.id, token };
}

/** A raw socket that said hello with the token, noting the offers pushed to it (the hello's own list aside). */
async function connect(pool: TestPool, token: string): Promise<Connected> {
  const socket = io(pool.url, { auth: { token }, transports: ['websocket'], reconnection: false });
  const offers: string[] = [];
  const connected: Connected = { socket, offers };
  socket.on('offer.created', (p: { offer: { task_id: string; offer_id: string } }) => {
    offers.push(p.offer.task_id);
    connected.lastOffer = p.offer.offer_id;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const ack = (await socket.emitWithAck('session.hello', { protocol_version: PROTOCOL_VERSION })) as { ok: boolean };
  assert.equal(ack.ok, true);
  return connected;
}

test("each worker's offers reach its own sockets, every one of them, and no other worker's", async () => {
  const pool = await startPool('memory');
  const open: ClientSocket[] = [];
  try {
    await pool.repo('o/pushes', { required_gates: [], max_open_prs: 100, max_new_prs_per_hour: 100 });
    const alice = await register(pool, 'push-alice', ['alpha']);
    const bob = await register(pool, 'push-bob', ['beta']);
    const a = await connect(pool, alice.token);
    const b1 = await connect(pool, bob.token);
    const b2 = await connect(pool, bob.token); // a second window of the same worker
    open.push(a.socket, b1.socket, b2.socket);

    const forBob = await pool.task('o/pushes', { title: 'for bob', skills: ['beta'] });
    await until(() => b1.offers.includes(forBob) && b2.offers.includes(forBob), "bob's offer on both of his sockets");
    const forAlice = await pool.task('o/pushes', { title: 'for alice', skills: ['alpha'] });
    await until(() => a.offers.includes(forAlice), "alice's offer");
    // Pushes to one socket arrive in order: had bob's offer reached alice, it would be listed before hers.
    assert.deepEqual(a.offers, [forAlice], 'alice got her offer and nothing of bob');

    // Bob closes one window: the other still gets his next offer.
    await accept(b2);
    b1.socket.close();
    await until(() => pool.coordinator.io.sockets.sockets.size === 2, 'the coordinator saw the close');
    const forBobAgain = await pool.task('o/pushes', { title: 'for bob again', skills: ['beta'] });
    await until(() => b2.offers.includes(forBobAgain), "bob's next offer on his remaining socket");
    assert.deepEqual(b1.offers, [forBob]);

    // After a reconnect (a new socket, a new hello), offers reach the new socket.
    await accept(b2);
    b2.socket.close();
    await until(() => pool.coordinator.runtime.engine.state.workers.get(bob.id)?.online === false, 'bob offline');
    const b3 = await connect(pool, bob.token);
    open.push(b3.socket);
    const forBobLater = await pool.task('o/pushes', { title: 'for bob later', skills: ['beta'] });
    await until(() => b3.offers.includes(forBobLater), 'the offer on the new socket');
    assert.deepEqual(a.offers, [forAlice], 'still nothing of bob at alice');
  } finally {
    for (const s of open) s.close();
    await pool.close();
  }
});

test("a worker's closed socket is not kept for its notifications", async () => {
  const pool = await startPool('memory');
  try {
    const worker = await register(pool, 'push-gone', ['gamma']);
    const { socket } = await connect(pool, worker.token);
    // Held only weakly from here (a local holding the socket would keep it alive itself).
    const ref = ((): WeakRef<object> => {
      const server = pool.coordinator.io.sockets.sockets.get(socket.id as string);
      assert.ok(server);
      return new WeakRef(server);
    })();
    socket.close();
    await until(() => pool.coordinator.runtime.engine.state.workers.get(worker.id)?.online === false, 'the worker went offline');
    let gone = false;
    // deref() keeps its target until the end of the current job: collect in a fresh turn each round.
    for (let i = 0; i < 10 && !gone; i += 1) {
      await new Promise((r) => setImmediate(r));
      gc();
      await new Promise((r) => setImmediate(r));
      gone = ref.deref() === undefined;
    }
    assert.ok(gone, "the server's socket is still reachable after the worker disconnected");
  } finally {
    await pool.close();
  }
});
