/**
 * What the bindings (HTTP, socket.io), the metrics and seeding need from a coordinator process.
 * Two implementations: `Runtime` (this process owns the state: one coordinator on any store, or the
 * leader of a cluster) and `ClusterNode` (coordinator/cluster/node.ts: the leader's runtime while it
 * leads, else a follower that keeps a copy of the state from the journal and relays every command
 * to the leader). The bindings cannot tell them apart.
 */
import type { EventEmitter } from 'node:events';
import type { JournalEvent } from '../protocol/journal-events.ts';
import type { Ack, OperationName, Result } from '../protocol/operations.ts';
import type { Principal } from './auth.ts';
import type { Engine } from './engine/engine.ts';
import type { HelloProfile } from './engine/sessions.ts';
import type { RuntimeEvents } from './runtime.ts';

/** The worker part of a session.hello answer. */
export type WorkerSession = Pick<Result<'session.hello'>, 'coordinator' | 'worker' | 'offers' | 'leases'>;

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface CoordinatorService extends EventEmitter<RuntimeEvents> {
  /**
   * The state this process reads: the engine itself on a single coordinator or a leader; on a
   * follower, a read-only engine over its copy of the journal (never asked to change anything).
   */
  readonly engine: Engine;
  readonly warnings: string[];
  /** Runs one operation and answers once its effects are durable. Params must be schema-valid. */
  call(principal: Principal, name: OperationName, params: Record<string, unknown>): Promise<Ack<unknown>>;
  /** A token's principal in this process's state, or null. */
  authenticate(token: string | undefined): Principal | null;
  /** The same for a token already hashed (hashToken): a connection hashes its token once, not on every command. */
  authenticateHash(tokenHash: string): Principal | null;
  /** Brings this process's state up to the journal's end (a follower may be a few events behind); resolves at once where the state is the journal. */
  catchUp(): Promise<void>;
  workerConnected(workerId: string): Promise<void>;
  workerDisconnected(workerId: string): Promise<void>;
  applyProfile(workerId: string, profile: HelloProfile): Promise<void>;
  /** The worker's view for session.hello: itself, its open offers and live leases (with their current deadlines). */
  workerSession(workerId: string): Promise<WorkerSession>;
  readJournalFor(principal: Principal, params: Record<string, unknown>): Promise<{ events: JournalEvent[]; last_seq: number }>;
  isDegraded(): boolean;
  readiness(): Readiness;
  /** A stop has begun: not ready from now on, while work in flight finishes. */
  beginShutdown(): void;
  close(): Promise<void>;
}

/**
 * A token's principal. A token this process does not know yet may be a few milliseconds old: a
 * cluster follower catches up with the journal once before refusing it (on a single coordinator
 * catchUp() resolves at once).
 */
export async function resolveToken(runtime: CoordinatorService, token: string): Promise<Principal | null> {
  const principal = runtime.authenticate(token);
  if (principal) return principal;
  await runtime.catchUp();
  return runtime.authenticate(token);
}
