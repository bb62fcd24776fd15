/**
 * The OWP engine: decides every command against the state, writes events, and schedules offers.
 * It is synchronous and has no I/O: the runtime around it makes events durable before answering,
 * and moves time through the injected clock (tests use a ManualClock and call `tick()`).
 *
 * This class only composes; each job has its file in this folder (ARCHITECTURE.md, "The engine"):
 * operations.ts (the command entry), worker-operations.ts, maintainer-operations.ts, reads.ts,
 * explain.ts, eligibility.ts, scheduler.ts, expiry.ts, idempotency.ts, sessions.ts, task-moves.ts.
 *
 * Rule of the engine: every check runs before the first event of a command is emitted, so a
 * refused command leaves the state untouched.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { Metrics, Task } from '../../protocol/model.ts';
import { OPERATIONS, type OperationName, type Result } from '../../protocol/operations.ts';
import type { Principal } from '../auth.ts';
import type { Clock } from '../clock.ts';
import type { WorkerRuntime } from '../state/records.ts';
import { State } from '../state/state.ts';
import { authorize, canReadTask, requireRepoRead } from './access.ts';
import { runCommand, type EngineParts, type Outcome } from './command.ts';
import { Eligibility } from './eligibility.ts';
import { Expiry, type SweepResult } from './expiry.ts';
import { runOperation } from './operations.ts';
import type { EngineOptions } from './options.ts';
import { coordinatorInfo, leasesOf, metrics, offersOf } from './reads.ts';
import { Scheduler } from './scheduler.ts';
import { applyProfile, authenticate, authenticateHash, bootstrapAdmins, connected, disconnected, type HelloProfile } from './sessions.ts';

export class Engine implements EngineParts {
  readonly state: State;
  readonly clock: Clock;
  readonly options: EngineOptions;
  /** Why a task cannot go to a worker now; the one place offers, claims and explanations ask. */
  readonly eligibility: Eligibility;
  readonly scheduler: Scheduler;
  private readonly expiry = new Expiry();

  constructor(options: EngineOptions) {
    this.options = options;
    this.clock = options.clock;
    this.state = options.state ?? new State();
    if (options.idempotencyLimits) this.state.idempotency.limits = options.idempotencyLimits;
    this.eligibility = new Eligibility(this.state, options.policy, options.explainPolicy);
    this.scheduler = new Scheduler(this.state, this.eligibility);
  }

  info(): Result<'coordinator.info'> {
    return coordinatorInfo(this.options);
  }

  /**
   * Runs one operation for a principal. Params must already be schema-valid. Never throws: a
   * refusal comes back as `error` with no events.
   */
  execute(principal: Principal, name: OperationName, params: Record<string, unknown>): Outcome {
    return runCommand(this, (cmd) => runOperation(cmd, principal, name, params));
  }

  /**
   * task.get of an archived task the runtime read back from the journal: the same checks as a
   * live one (a token, and a repo the caller may read), made here so no read bypasses the engine.
   */
  readArchivedTask(principal: Principal, task: Task): Outcome<Result<'task.get'>> {
    return runCommand(this, (cmd) => {
      authorize(principal, OPERATIONS['task.get'].auth, 'task.get');
      if (!canReadTask(cmd.state, principal, task)) {
        if (principal.kind === 'worker') throw new OwpError('NOT_FOUND', `No task ${task.id}.`, { task_id: task.id });
        requireRepoRead(cmd.state, principal, task.repo);
      }
      return { task };
    });
  }

  // ---- sessions ------------------------------------------------------------------------------

  authenticate(token: string | undefined): Principal | null {
    return authenticate(this.state, token);
  }

  authenticateHash(tokenHash: string): Principal | null {
    return authenticateHash(this.state, tokenHash);
  }

  /** Makes the operator's tokens the bootstrap admins, rotating or revoking earlier ones (sessions.ts). */
  bootstrapAdmins(tokens: readonly string[]): Outcome {
    return runCommand(this, (cmd) => bootstrapAdmins(cmd, tokens));
  }

  connected(workerId: string): Outcome {
    return runCommand(this, (cmd) => connected(cmd, workerId));
  }

  disconnected(workerId: string): Outcome {
    return runCommand(this, (cmd) => disconnected(cmd, workerId));
  }

  /** Applies a hello's profile without an idempotency key (setting values is idempotent by nature). */
  applyProfile(workerId: string, profile: HelloProfile): Outcome {
    return runCommand(this, (cmd) => applyProfile(cmd, workerId, profile));
  }

  offersOf(w: WorkerRuntime): Result<'offer.list'>['offers'] {
    return offersOf(this.state, w);
  }

  leasesOf(w: WorkerRuntime): Result<'worker.status'>['leases'] {
    return leasesOf(this.state, w);
  }

  // ---- scheduling and time -------------------------------------------------------------------

  hasDirty(): boolean {
    return this.scheduler.hasDirty();
  }

  /** Makes offers: each ready task, in priority then age order, to the least recently offered eligible idle worker. */
  schedule(): Outcome<number> {
    return runCommand(this, (cmd) => this.scheduler.schedule(cmd));
  }

  /** Expires offers and leases whose deadline has passed, prunes idempotency keys, archives finished tasks. */
  tick(): Outcome<SweepResult> {
    return runCommand(this, (cmd) => this.expiry.sweep(cmd));
  }

  /** After recovery: live leases get a fresh heartbeat window, workers start offline, everything is rescheduled. */
  graceAfterRecovery(): void {
    this.expiry.graceAfterRecovery(this.state, this.scheduler, this.clock.now());
  }

  // ---- reads for the runtime's other outputs (Prometheus) --------------------------------------

  metrics(repoId?: string): Metrics {
    return metrics(this.state, repoId);
  }
}
