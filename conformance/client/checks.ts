/**
 * What the client mode checks, one entry per requirement of SPEC §5.15 (a worker client's duties),
 * judged from what the relay recorded (tap.ts). Each judge returns undefined when the client met
 * the duty, or what it did instead.
 */
import type { Lease } from '../../protocol/model.ts';
import type { ClientTap, TappedOp } from './tap.ts';

/** The requirement ids the client mode reports, with the title of each check. */
export const CLIENT_CHECKS = [
  { requirement: 'CLIENT-001', title: 'the first operation on every connection is session.hello' },
  { requirement: 'CLIENT-002', title: 'a held lease is heartbeated before its heartbeat timeout passes' },
  { requirement: 'CLIENT-003', title: 'an offer the client takes is accepted within the offer deadline' },
  { requirement: 'CLIENT-004', title: 'after lease.cancelled the client sends nothing more for that lease' },
  { requirement: 'CLIENT-005', title: 'after a lease operation is refused as expired, stale or not held, the client sends nothing more for that lease' },
  { requirement: 'CLIENT-006', title: 'every lease operation carries the epoch the coordinator granted with that lease' },
  { requirement: 'CLIENT-007', title: 'a request retried after a lost answer carries the same idempotency key' },
] as const;

export type ClientRequirement = (typeof CLIENT_CHECKS)[number]['requirement'];

/** Operations a socket may send before its hello (CONN-002). */
const BEFORE_HELLO = new Set(['session.hello', 'coordinator.info', 'worker.register']);
const LEASE_OPS = new Set(['lease.heartbeat', 'lease.report', 'lease.release']);
export const LOST_CODES = new Set(['LEASE_EXPIRED', 'STALE_EPOCH', 'NOT_HOLDER']);

export function namesLease(op: TappedOp, leaseId: string): boolean {
  return op.conn > 0 && LEASE_OPS.has(op.name) && op.params.lease_id === leaseId;
}

export function helloFirst(tap: ClientTap): string | undefined {
  for (const { conn } of tap.connections) {
    const ops = tap.ops.filter((o) => o.conn === conn);
    // Until the hello's answer reached the worker, not merely until the hello was sent.
    const answered = ops.find((o) => o.name === 'session.hello' && o.ack?.ok === true)?.ackDeliveredAt ?? Infinity;
    const early = ops.filter((o) => o.receivedAt < answered && !BEFORE_HELLO.has(o.name));
    if (early.length > 0) return `connection ${conn} sent ${early.map((o) => o.name).join(', ')} before its hello was answered`;
  }
  return undefined;
}

/** The longest silence between the grant and the heartbeats of a lease, up to `until`. */
export function longestSilence(tap: ClientTap, lease: Lease, grantedAt: number, until: number): number {
  const beats = tap.ops.filter((o) => o.name === 'lease.heartbeat' && o.params.lease_id === lease.lease_id && o.receivedAt <= until).map((o) => o.receivedAt);
  let last = grantedAt;
  let longest = 0;
  for (const at of [...beats, until]) {
    longest = Math.max(longest, at - last);
    last = Math.max(last, at);
  }
  return longest;
}

/** Operations naming the lease that the client sent after it was told (at `toldAt`) the lease had ended. */
export function actedAfter(tap: ClientTap, leaseId: string, toldAt: number, graceMs: number): TappedOp[] {
  return tap.ops.filter((o) => namesLease(o, leaseId) && o.receivedAt > toldAt + graceMs);
}

/** Every lease the coordinator handed the client, from answers and notifications, by id. */
export function grantedLeases(tap: ClientTap): Map<string, Lease> {
  const leases = new Map<string, Lease>();
  const add = (value: unknown): void => {
    const lease = value as Partial<Lease> | undefined;
    if (lease && typeof lease.lease_id === 'string' && typeof lease.epoch === 'number') leases.set(lease.lease_id, lease as Lease);
  };
  for (const op of tap.ops) {
    if (!op.ack?.ok) continue;
    const data = op.ack.data as { lease?: unknown; leases?: unknown[] };
    add(data.lease);
    for (const l of Array.isArray(data.leases) ? data.leases : []) add(l);
  }
  for (const n of tap.notifications) add(n.payload.lease);
  return leases;
}

export function wrongEpochs(tap: ClientTap): string | undefined {
  const granted = grantedLeases(tap);
  const wrong = tap.ops.filter((o) => o.conn > 0 && LEASE_OPS.has(o.name) && granted.has(String(o.params.lease_id)) && o.params.epoch !== granted.get(String(o.params.lease_id))?.epoch);
  if (wrong.length === 0) return undefined;
  return wrong.slice(0, 3).map((o) => `${o.name} on ${String(o.params.lease_id)} with epoch ${JSON.stringify(o.params.epoch)}, granted epoch ${granted.get(String(o.params.lease_id))?.epoch}`).join('; ');
}
