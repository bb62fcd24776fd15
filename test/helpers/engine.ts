/**
 * Drives the engine directly on a manual clock: no sockets, no timers. Time moves only when a test
 * says so, and `settle()` runs the sweep and the scheduler the way the runtime does.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../coordinator/clock.ts';
import { Engine } from '../../coordinator/engine/engine.ts';
import type { Outcome } from '../../coordinator/engine/command.ts';
import type { EngineOptions } from '../../coordinator/engine/options.ts';
import type { Principal } from '../../coordinator/auth.ts';
import { OPERATIONS, type OperationName } from '../../protocol/operations.ts';
import type { StoredEvent } from '../../coordinator/state/stored-event.ts';

let keyCounter = 0;

export class EngineHarness {
  readonly clock = new ManualClock();
  readonly engine: Engine;
  readonly admin: Principal;
  readonly journal: StoredEvent[] = [];

  constructor(options: Partial<EngineOptions> = {}) {
    this.engine = new Engine({ clock: this.clock, ...options });
    this.record(this.engine.bootstrapAdmins(['owpm_test_admin']));
    this.admin = this.engine.authenticate('owpm_test_admin') as Principal;
  }

  private record<T>(outcome: Outcome<T>): Outcome<T> {
    this.journal.push(...outcome.events);
    return outcome;
  }

  /** Runs an operation and returns its result, failing the test on a refusal. */
  ok<T = any>(principal: Principal, name: OperationName, params: Record<string, unknown> = {}): T {
    const outcome = this.run(principal, name, params);
    if (outcome.error) assert.fail(`${name} was refused: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.result as T;
  }

  /** Runs an operation expecting a refusal; returns the error code. */
  refused(principal: Principal, name: OperationName, params: Record<string, unknown> = {}): string {
    const outcome = this.run(principal, name, params);
    assert.ok(outcome.error, `${name} should have been refused`);
    assert.equal(outcome.events.length, 0, 'a refused command must not write events');
    return outcome.error.code;
  }

  run(principal: Principal, name: OperationName, params: Record<string, unknown> = {}): Outcome {
    const payload = { ...params };
    // Mutating operations get a fresh key unless the test brings its own (or deletes it with undefined).
    if (OPERATIONS[name].mutating && !('idempotency_key' in params)) payload.idempotency_key = `k${(keyCounter += 1)}`;
    if (payload.idempotency_key === undefined) delete payload.idempotency_key;
    return this.record(this.engine.execute(principal, name, payload));
  }

  repo(repo: string, settings: Record<string, unknown> = {}): void {
    this.ok(this.admin, 'repo.configure', { repo, ...settings });
  }

  task(repo: string, fields: Record<string, unknown> = {}): string {
    return this.ok(this.admin, 'task.create', { repo, title: 'task', ...fields }).task.id;
  }

  /** Registers a worker, optionally sets trust, and connects it. */
  worker(profile: Record<string, unknown> = {}, trust = 0): Principal & { kind: 'worker' } {
    const { worker } = this.ok({ kind: 'anonymous' }, 'worker.register', {
      github_login: `user${keyCounter}`,
      skills: ['docs'],
      capacity: 3,
      tools: ['none'],
      capabilities: { can_run_tests: true, can_open_prs: true },
      ...profile,
    });
    if (trust > 0) this.ok(this.admin, 'worker.set_trust', { worker_id: worker.id, trust });
    this.record(this.engine.connected(worker.id));
    return { kind: 'worker', id: worker.id };
  }

  /** Sweeps expiries and runs the scheduler until nothing changes. */
  settle(): void {
    for (let i = 0; i < 10; i += 1) {
      const tick = this.record(this.engine.tick());
      const scheduled = this.record(this.engine.schedule());
      if (tick.events.length === 0 && scheduled.events.length === 0) return;
    }
  }

  advance(ms: number): void {
    this.clock.advance(ms);
    this.settle();
  }

  offerOf(worker: Principal): { offer_id: string; task_id: string } | undefined {
    return this.ok(worker, 'offer.list').offers[0];
  }

  state(taskId: string): string {
    return this.engine.state.tasks.get(taskId)?.state ?? 'archived';
  }

  types(): string[] {
    return this.journal.map((e) => e.type);
  }
}
