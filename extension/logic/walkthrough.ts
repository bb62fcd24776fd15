/**
 * Which steps of the first-time walkthrough a pool session's state shows done. VS Code ticks a
 * step on its completion events only while its walkthrough service exists and sees the change:
 * the service is made lazily (when the Welcome page first opens), and a completion context key
 * already true by then is recorded without ticking the step, for the rest of the session (VS Code
 * 1.139, `registerDoneListeners`). A volunteer who joined before opening the walkthrough, as
 * most do, never saw "Join the pool" ticked. So the extension also marks these steps done itself
 * (`welcome.markStepComplete`, which persists), from the state the session is in.
 */
import { WALKTHROUGH } from '../constants.ts';
import type { PoolSnapshot } from './pool-session.ts';

export type WalkthroughStep = (typeof WALKTHROUGH.steps)[keyof typeof WALKTHROUGH.steps];

/** What the window saw besides the session: a task handed to the AI tool, My work on screen. */
export interface WalkthroughSeen {
  handedOff: boolean;
  workViewShown: boolean;
}

/**
 * The steps done, in walkthrough order: joined; an offer taken (a lease held, or a PR from one);
 * a task handed to the AI tool (or a PR submitted, which needed one); a PR submitted; and a
 * submitted PR followed in My work.
 */
export function walkthroughStepsDone(s: Pick<PoolSnapshot, 'state' | 'leases' | 'submitted'>, seen: WalkthroughSeen = { handedOff: false, workViewShown: false }): WalkthroughStep[] {
  const done: WalkthroughStep[] = [];
  const submitted = s.submitted.length > 0;
  if (s.state !== 'not-joined') done.push(WALKTHROUGH.steps.join);
  if (s.leases.length > 0 || submitted) done.push(WALKTHROUGH.steps.offer);
  if (seen.handedOff || submitted) done.push(WALKTHROUGH.steps.work);
  if (submitted) done.push(WALKTHROUGH.steps.submit);
  if (submitted && seen.workViewShown) done.push(WALKTHROUGH.steps.submitted);
  return done;
}

/** The id VS Code knows a contributed step by. */
export function walkthroughStepId(extensionId: string, step: WalkthroughStep): string {
  return `${extensionId}#${WALKTHROUGH.id}#${step}`;
}
