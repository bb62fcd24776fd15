/**
 * One command's context: the time it runs at, the events it writes (each folded into the state at
 * once, so later checks of the same command see it) and the notifications it sends once those
 * events are durable. Everything that changes the state goes through `emit`.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { NotificationName, NotificationPayload } from '../../protocol/operations.ts';
import type { Clock } from '../clock.ts';
import type { State } from '../state/state.ts';
import type { KeptIdempotency } from '../state/idempotency-keys.ts';
import type { EventDraft, StoredEvent } from '../state/stored-event.ts';
import type { Eligibility } from './eligibility.ts';
import type { EngineOptions } from './options.ts';
import type { Scheduler } from './scheduler.ts';

/** The notifications the engine sends to one worker's sockets. */
export type WorkerNotificationName = Extract<NotificationName, 'offer.created' | 'offer.withdrawn' | 'lease.granted' | 'lease.cancelled' | 'pr.checks_updated' | 'pr.counted'>;

/** A message for one worker's sockets, delivered once the events that caused it are durable. */
export type Notification = { [N in WorkerNotificationName]: { workerId: string; name: N; payload: NotificationPayload<N> } }[WorkerNotificationName];

export interface Outcome<T = unknown> {
  result?: T;
  error?: OwpError;
  events: StoredEvent[];
  notifications: Notification[];
  /** Set when the answer is a replay of an earlier request with the same idempotency key. */
  replayOf?: KeptIdempotency;
}

/** The long-lived parts of an engine every command works with. */
export interface EngineParts {
  readonly state: State;
  readonly clock: Clock;
  readonly options: EngineOptions;
  readonly eligibility: Eligibility;
  readonly scheduler: Scheduler;
}

export class Command {
  readonly events: StoredEvent[] = [];
  readonly notifications: Notification[] = [];
  /** Set when the command answers with the stored answer of an earlier request (same idempotency key). */
  replayOf: KeptIdempotency | undefined;
  readonly state: State;
  readonly options: EngineOptions;
  readonly eligibility: Eligibility;
  /** Where a command marks what the next scheduling pass must look at again. */
  readonly scheduler: Scheduler;
  /**
   * The time the command runs at, read from the clock once: every deadline it sets and every event
   * it writes is measured from the same instant (a lease's expires_at − granted_at is exactly the
   * heartbeat timeout, an offer's deadline_at − created_at exactly the offer timeout).
   */
  readonly now: number;

  constructor(parts: EngineParts) {
    this.state = parts.state;
    this.options = parts.options;
    this.eligibility = parts.eligibility;
    this.scheduler = parts.scheduler;
    this.now = parts.clock.now();
  }

  /** Writes an event: numbers it, folds it into the state and keeps it for the journal. */
  emit(draft: EventDraft): StoredEvent {
    // The draft (every caller's own object literal) becomes the event: seq and at are added last,
    // so its fields and their order are a copy's, without the copy. Spreading drafts of dozens of
    // shapes was a generic (megamorphic) object copy on every event.
    const event = draft as EventDraft & { seq: number; at: number } as StoredEvent;
    event.seq = this.state.seq + 1;
    event.at = this.now;
    this.state.apply(event);
    this.events.push(event);
    return event;
  }

  notify(notification: Notification): void {
    this.notifications.push(notification);
  }
}

/**
 * Runs fn as one command and collects what it wrote. Never throws: a refusal comes back as `error`.
 * Events already applied are kept even when fn throws later (the engine checks before it writes,
 * so that happens only on a defect, and the state must then match the journal).
 */
export function runCommand<T>(parts: EngineParts, fn: (cmd: Command) => T): Outcome<T> {
  const cmd = new Command(parts);
  try {
    const result = fn(cmd);
    const outcome: Outcome<T> = { result, events: cmd.events, notifications: cmd.notifications };
    if (cmd.replayOf) outcome.replayOf = cmd.replayOf;
    return outcome;
  } catch (error) {
    return { error: toOwpError(error), events: cmd.events, notifications: cmd.notifications };
  }
}

export function toOwpError(error: unknown): OwpError {
  if (error instanceof OwpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OwpError('INTERNAL', `The coordinator failed: ${message}. Nothing was changed; retry with the same idempotency key.`);
}
