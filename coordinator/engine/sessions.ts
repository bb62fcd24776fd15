/**
 * Sessions: tokens to principals, and what a worker's sockets tell the coordinator (connected,
 * disconnected, the profile a hello carries). These are not protocol operations; the bindings
 * call them around session.hello and socket close.
 */
import type { Params } from '../../protocol/operations.ts';
import { assertWorkerExtensions } from '../../protocol/validate.ts';
import { hashToken, type Principal } from '../auth.ts';
import { isBootstrapAdmin } from '../state/records.ts';
import type { State } from '../state/state.ts';
import type { Command } from './command.ts';
import { withdrawIfIneligible, withdrawOffer } from './task-moves.ts';

/** The profile fields a hello may carry. */
export type HelloProfile = NonNullable<Params<'session.hello'>['profile']>;

/** Resolves a bearer token to a principal, or null when unknown or revoked. */
export function authenticate(state: State, token: string | undefined): Principal | null {
  return token ? authenticateHash(state, hashToken(token)) : null;
}

/** authenticate for a token already hashed (hashToken): a socket hashes its token once, and checks it on every command. */
export function authenticateHash(state: State, tokenHash: string): Principal | null {
  const entry = state.tokenIndex.get(tokenHash);
  if (!entry) return null;
  if (entry.kind === 'worker') {
    const w = state.workers.get(entry.id);
    return w && !w.record.revoked ? { kind: 'worker', id: entry.id } : null;
  }
  const m = state.maintainers.get(entry.id);
  if (!m) return null;
  return { kind: 'maintainer', id: m.id, repos: m.repos, admin: m.repos.includes('*') };
}

/**
 * Makes the operator's tokens the bootstrap admins (maintainers scoped to `*`), and only them: a
 * token seen before is kept; a new one rotates a bootstrap admin whose token is no longer given
 * (so changing OWP_ADMIN_TOKEN replaces the old token, which stops working), or creates one; a
 * bootstrap admin left without a given token is revoked. Journals from before the `bootstrap`
 * flag name that admin "admin" with the scope `*`.
 */
export function bootstrapAdmins(cmd: Command, tokens: readonly string[]): void {
  const hashes = [...new Set(tokens.map(hashToken))];
  const current = [...cmd.state.maintainers.values()].filter((m) => !m.revoked && isBootstrapAdmin(m));
  const kept = new Set(current.filter((m) => hashes.includes(m.token_hash)).map((m) => m.id));
  const spare = current.filter((m) => !kept.has(m.id));
  for (const hash of hashes) {
    if (current.some((m) => m.token_hash === hash)) continue;
    if (cmd.state.tokenIndex.has(hash)) throw new Error('the admin token is already another maintainer\'s or a worker\'s token; choose a new one');
    const rotated = spare.shift();
    const id = rotated?.id ?? `M-${cmd.state.counters.maintainer + 1}`;
    cmd.emit({ type: 'maintainer.created', data: { id, name: 'admin', repos: ['*'], bootstrap: true, token_hash: hash } });
  }
  for (const m of spare) cmd.emit({ type: 'maintainer.revoked', data: { id: m.id, reason: 'the operator\'s admin token changed' } });
}

/** One more socket of a worker; the first makes it online. */
export function connected(cmd: Command, workerId: string): void {
  const w = cmd.state.mustWorker(workerId);
  w.sockets += 1;
  w.lastSeenAt = cmd.now;
  if (!w.online) {
    cmd.emit({ type: 'worker.connected', worker_id: workerId, data: {} });
    cmd.scheduler.markWorker(workerId);
  }
}

/** One socket fewer; the last makes the worker offline and withdraws its open offers. */
export function disconnected(cmd: Command, workerId: string): void {
  const w = cmd.state.workers.get(workerId);
  if (!w) return;
  w.sockets = Math.max(0, w.sockets - 1);
  if (w.sockets === 0 && w.online) {
    for (const offerId of [...w.openOffers]) withdrawOffer(cmd, offerId, 'worker disconnected');
    // Leases stay: the worker may reconnect and resume them before its heartbeat deadline.
    cmd.emit({ type: 'worker.disconnected', worker_id: workerId, data: {} });
  }
}

/** Applies a hello's profile without an idempotency key (setting values is idempotent by nature): only what differs is written. */
export function applyProfile(cmd: Command, workerId: string, profile: HelloProfile): void {
  const w = cmd.state.mustWorker(workerId);
  assertWorkerExtensions(profile, w.record);
  const changes = changedFields(profile, w.record);
  if (Object.keys(changes).length === 0) return;
  cmd.emit({ type: 'worker.updated', worker_id: workerId, data: { changes } });
  cmd.scheduler.markWorker(workerId);
  withdrawIfIneligible(cmd, w);
}

/** The fields of `proposed` whose values differ from `current`'s. */
function changedFields<T extends object>(proposed: T, current: object): Partial<T> {
  const out: Partial<T> = {};
  for (const key in proposed) {
    if (JSON.stringify(Reflect.get(current, key)) !== JSON.stringify(proposed[key])) out[key] = proposed[key];
  }
  return out;
}
