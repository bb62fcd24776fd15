/**
 * The reference worker client (client/worker-client.ts) driven as a volunteer who takes every
 * offer would drive it, and the deliberately broken clients the client mode must catch: each
 * variant is one realistic mistake in a worker implementation.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { WorkerClient } from '../../client/worker-client.ts';

export type BrokenClient =
  /** Never heartbeats its leases. */
  | 'no-heartbeat'
  /** Sends every request, retries included, with a fresh idempotency key. */
  | 'new-key-on-retry'
  /** Does not listen to lease.cancelled. */
  | 'ignores-cancelled'
  /** Keeps heartbeating a lease whose heartbeat was refused. */
  | 'ignores-lost'
  /** Sends the first epoch it ever saw for a task, not the one granted with the lease. */
  | 'stale-epoch'
  /** Asks for its offers before saying hello. */
  | 'no-hello-first';

export interface Driven {
  client: WorkerClient;
  stop(): void;
}

export async function driveClient(url: string, repo: string, broken?: BrokenClient): Promise<Driven> {
  const login = `drv${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const profile = { skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true }, repos: [repo] };
  const { token } = await WorkerClient.register(url, { github_login: login, ...profile });
  const client = new WorkerClient({ url, token, profile, autoHeartbeat: broken !== 'no-heartbeat', requestTimeoutMs: 10_000, retryForMs: 60_000, reconnectionDelayMs: 200, reconnectionDelayMaxMs: 1000 });
  const socket = client.socket as Socket & { emitWithAck: (name: string, body: unknown) => Promise<unknown> };
  const send = socket.emitWithAck.bind(socket);
  const firstEpoch = new Map<string, number>();
  socket.emitWithAck = (name: string, body: unknown) => {
    const params = body as Record<string, unknown>;
    if (broken === 'new-key-on-retry' && typeof params.idempotency_key === 'string') return send(name, { ...params, idempotency_key: randomUUID() });
    if (broken === 'stale-epoch' && typeof params.lease_id === 'string') {
      const taskId = client.leases.get(params.lease_id)?.task_id;
      if (taskId) return send(name, { ...params, epoch: firstEpoch.get(taskId) ?? params.epoch });
    }
    return send(name, body);
  };
  if (broken === 'ignores-cancelled') socket.off('lease.cancelled');
  if (broken === 'no-hello-first') socket.on('connect', () => void send('offer.list', {}).catch(() => undefined));
  if (broken === 'ignores-lost') {
    // Every lost lease (a refused heartbeat, a hello without it) goes back into the client's table,
    // so its timer keeps heartbeating it; only cancelled ones stay dropped.
    const cancelled = new Set<string>();
    client.on('lease.cancelled', (p) => cancelled.add(p.lease_id));
    client.on('lease.lost', ({ lease }) => {
      if (!cancelled.has(lease.lease_id)) (client as unknown as { trackLease(l: typeof lease): void }).trackLease(lease);
    });
  }
  client.on('offer', (offer) => {
    void client.accept(offer.offer_id).then(
      ({ lease }) => {
        if (!firstEpoch.has(lease.task_id)) firstEpoch.set(lease.task_id, lease.epoch);
        return client.report(lease.lease_id, { state: 'in_progress' });
      },
      () => undefined,
    ).catch(() => undefined);
  });
  await client.connect();
  return { client, stop: () => client.close() };
}
