/**
 * The task state machine (SPEC §6). States are a string union; every change of state is one row of
 * TRANSITIONS. Expiry, decline and cancellation are events that cause transitions, not states.
 */
export const TASK_STATES = ['ready', 'offered', 'leased', 'in_progress', 'pr_opened', 'merged', 'closed', 'blocked'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_STATES: readonly TaskState[] = ['merged', 'closed'];
/** States in which a task holds its area lock and a unit of the repo's review budget. */
export const ACTIVE_STATES: readonly TaskState[] = ['offered', 'leased', 'in_progress', 'pr_opened'];
/** States in which a live lease exists. */
export const LEASED_STATES: readonly TaskState[] = ['leased', 'in_progress'];

export type TransitionCause =
  | 'offer'
  | 'accept'
  | 'claim'
  | 'direct'
  | 'decline'
  | 'offer_expired'
  | 'offer_withdrawn'
  | 'start'
  | 'pr_opened'
  | 'release'
  | 'lease_expired'
  | 'lease_cancelled'
  | 'max_attempts'
  | 'worker_blocked'
  | 'maintainer_blocked'
  | 'unblock'
  | 'merged'
  | 'closed';

export type Actor = 'scheduler' | 'worker' | 'maintainer' | 'coordinator';

export interface Transition {
  readonly from: TaskState;
  readonly to: TaskState;
  readonly cause: TransitionCause;
  readonly by: Actor;
  readonly countsAttempt: boolean;
}

function row(from: TaskState, to: TaskState, cause: TransitionCause, by: Actor, countsAttempt = false): Transition {
  return { from, to, cause, by, countsAttempt };
}

const closable: readonly TaskState[] = ['ready', 'offered', 'leased', 'in_progress', 'pr_opened', 'blocked'];
const blockable: readonly TaskState[] = ['ready', 'offered', 'leased', 'in_progress'];

export const TRANSITIONS: readonly Transition[] = [
  row('ready', 'offered', 'offer', 'scheduler'),
  row('offered', 'leased', 'accept', 'worker'),
  row('ready', 'leased', 'claim', 'worker'),
  // Direct leases (OFFER-011): the scheduler grants the lease where it would have made an offer.
  row('ready', 'leased', 'direct', 'scheduler'),
  row('offered', 'ready', 'decline', 'worker', true),
  row('offered', 'ready', 'offer_expired', 'coordinator'),
  row('offered', 'ready', 'offer_withdrawn', 'coordinator'),
  row('leased', 'in_progress', 'start', 'worker'),
  row('leased', 'pr_opened', 'pr_opened', 'worker'),
  row('in_progress', 'pr_opened', 'pr_opened', 'worker'),
  row('leased', 'ready', 'release', 'worker', true),
  row('in_progress', 'ready', 'release', 'worker', true),
  row('leased', 'ready', 'lease_expired', 'coordinator', true),
  row('in_progress', 'ready', 'lease_expired', 'coordinator', true),
  row('leased', 'ready', 'lease_cancelled', 'maintainer', true),
  row('in_progress', 'ready', 'lease_cancelled', 'maintainer', true),
  // When a returning task has used up its attempts it goes to blocked instead of ready.
  row('offered', 'blocked', 'max_attempts', 'coordinator'),
  row('leased', 'blocked', 'max_attempts', 'coordinator'),
  row('in_progress', 'blocked', 'max_attempts', 'coordinator'),
  row('leased', 'blocked', 'worker_blocked', 'worker'),
  row('in_progress', 'blocked', 'worker_blocked', 'worker'),
  ...blockable.map((from) => row(from, 'blocked', 'maintainer_blocked', 'maintainer')),
  row('blocked', 'ready', 'unblock', 'maintainer'),
  row('pr_opened', 'merged', 'merged', 'maintainer'),
  ...closable.map((from) => row(from, 'closed', 'closed', 'maintainer')),
];

export function findTransition(from: TaskState, to: TaskState, cause: TransitionCause): Transition | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.to === to && t.cause === cause);
}

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}
