/**
 * Refusals from the coordinator, turned into sentences that say what happened and what to do.
 * The coordinator's own message is kept when it already does that; the codes that need context
 * from the volunteer's side get a sentence of their own.
 */
import { OwpError } from '../../protocol/errors.ts';

function reasonsOf(error: OwpError): string[] {
  const reasons = error.details?.reasons;
  if (!Array.isArray(reasons)) return [];
  return reasons.map((r) => (typeof r === 'object' && r && 'message' in r ? String((r as { message: unknown }).message) : String(r))).filter(Boolean);
}

export function describeError(error: unknown, action = 'That'): string {
  if (!(error instanceof OwpError)) return `${action} failed: ${error instanceof Error ? error.message : String(error)}`;
  switch (error.code) {
    case 'OFFER_EXPIRED':
      return 'That offer is no longer open (it expired, was withdrawn or was already answered). The task went back to the pool; new offers appear in Offers & tasks.';
    case 'LEASE_EXPIRED':
    case 'STALE_EPOCH':
    case 'NOT_HOLDER':
      return `This window no longer holds that task (${error.message}). Stop work on it; it went back to the pool.`;
    case 'NOT_ELIGIBLE': {
      const reasons = reasonsOf(error);
      return `You cannot take that task: ${reasons.length ? reasons.join('; ') : error.message}. Check your skills and capacity in the OWP settings.`;
    }
    case 'AREA_LOCKED':
      return `Another volunteer is working in the same area of that repo (${error.message}). Pick another task or try again later.`;
    case 'BUDGET_EXHAUSTED':
      return `The repo's review budget is full right now (${error.message}). Maintainers get new PRs once they review the open ones; try again later.`;
    case 'POLICY_DENIED':
      return `The repo's policy does not allow that: ${error.message}`;
    case 'GATES_MISSING':
      return `The coordinator did not record the PR: gates the repo requires are missing (${error.message}). Run Submit PR again after fixing them.`;
    case 'UNAUTHENTICATED':
      return `The coordinator does not accept this window's worker token (${error.message}). Run "OWP: Join Pool" to join again.`;
    case 'REGISTRATION_CLOSED':
      return `This coordinator does not accept new volunteers without an invitation (${error.message}).`;
    case 'RATE_LIMITED':
      return 'The coordinator asked us to slow down. Wait a moment and try again.';
    case 'INVALID_TRANSITION':
      return `The task is not in a state that allows that (${error.message}). Refresh the OWP view to see where it is now.`;
    case 'VALIDATION_FAILED':
      return `The coordinator refused the values sent: ${error.message}. Check the OWP settings.`;
    default:
      return error.message;
  }
}
