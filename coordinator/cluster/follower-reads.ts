/**
 * Reads a follower answers from its own hot copy of the state instead of relaying them: task and
 * repo reads, task.explain, metrics, the member lists. They run through the same engine code as
 * on the leader (engine/reads.ts), so they are scoped exactly as there (AUTH-008).
 *
 * Consistency: a read is linearizable, as a read on the leader is. Before it runs, the follower
 * asks the leader how far its journal is durable (a "read index": one small round trip over the
 * relay link, shared by every read that arrived while none was on its way) and waits until its
 * copy has applied that far. Whatever any client was told before the read (its own writes through
 * any node, a notification, another client's answer) was durable by then, so the read sees it.
 * The principal is resolved again on the caught-up copy, so a token revoked before the read is
 * refused as on the leader (AUTH-009, AUTH-010). A copy that cannot catch up in time (its
 * database link is slow or cut) hands the read to the leader instead: never a stale answer.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { Ack, OperationName } from '../../protocol/operations.ts';
import type { Principal } from '../auth.ts';
import type { State } from '../state/state.ts';
import type { JournalFollower } from './follower.ts';

/** The operations a follower answers itself (journal.read too, elsewhere: it reads the shared journal). */
export const FOLLOWER_READS: ReadonlySet<OperationName> = new Set<OperationName>([
  'coordinator.info',
  'task.get',
  'task.list',
  'task.explain',
  'repo.get',
  'repo.list',
  'metrics.get',
  'contributor.list',
  'policy.standings',
  'worker.list',
  'maintainer.list',
]);

export interface FollowerReadsOptions {
  /** Asks the leader for its last durable seq (throws when the leader cannot be asked). */
  leaderSeq: () => Promise<number>;
  /** How long a read waits for this node's copy before it is handed to the leader. */
  maxWaitMs: number;
}

export interface FollowerReadCounts {
  /** Reads answered from this node's copy. */
  local: number;
  /** Reads handed to the leader because the copy did not catch up in time (or did not hold the data). */
  handedOver: number;
}

/** The principal as the caught-up copy knows it now: null once its token no longer works. */
export function currentPrincipal(state: State, principal: Principal): Principal | null {
  if (principal.kind === 'anonymous') return principal;
  if (principal.kind === 'worker') {
    const w = state.workers.get(principal.id);
    return w && !w.record.revoked ? principal : null;
  }
  const m = state.maintainers.get(principal.id);
  if (!m || m.revoked) return null;
  return { kind: 'maintainer', id: m.id, repos: m.repos, admin: m.repos.includes('*') };
}

export class FollowerReads {
  readonly counts: FollowerReadCounts = { local: 0, handedOver: 0 };
  private inFlight: Promise<number> | null = null;
  private queued: Promise<number> | null = null;

  constructor(private readonly options: FollowerReadsOptions) {}

  /**
   * The leader's durable seq, asked after the caller arrived: a request already on its way may have
   * been answered before the caller's predecessors' writes were, so a caller that finds one waits
   * for it to finish and shares the next one (at most one request on the link, one queued).
   */
  readIndex(): Promise<number> {
    if (!this.inFlight) {
      this.inFlight = this.options.leaderSeq().finally(() => {
        this.inFlight = null;
      });
      return this.inFlight;
    }
    this.queued ??= this.inFlight.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.queued = null;
      return this.readIndex();
    });
    return this.queued;
  }

  /**
   * Answers a read from the copy, or returns null: the caller relays it to the leader then (the
   * copy did not catch up in time, or the read needs what only the leader has, e.g. an archived task).
   */
  async serve(follower: JournalFollower, principal: Principal, name: OperationName, params: Record<string, unknown>): Promise<Ack<unknown> | null> {
    const index = await this.readIndex();
    if (!(await follower.waitFor(index, this.options.maxWaitMs))) return this.handOver();
    // An archived task is read back from the journal by the leader's runtime.
    if (name === 'task.get' && !follower.state.tasks.has(params.task_id as string)) return this.handOver();
    const now = currentPrincipal(follower.state, principal);
    if (!now) throw new OwpError('UNAUTHENTICATED', 'This token is not valid (revoked or replaced).');
    const outcome = follower.engine.execute(now, name, params);
    // A read never changes anything; if one ever did, the leader must be the one to run it.
    if (outcome.events.length > 0) return this.handOver();
    this.counts.local += 1;
    if (outcome.error) return { ok: false, error: outcome.error.toWire() };
    return { ok: true, data: outcome.result };
  }

  private handOver(): null {
    this.counts.handedOver += 1;
    return null;
  }
}
