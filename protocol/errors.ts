/**
 * Every refusal on the wire carries one of these codes. Codes are stable: a code is never reused
 * for another meaning. Numbers group them in documented ranges (SPEC §7):
 * 1xxx request, 2xxx access, 3xxx state, 4xxx scheduling and budget, 5xxx coordinator.
 */
export interface ErrorCodeInfo {
  readonly number: number;
  readonly httpStatus: number;
  readonly summary: string;
}

export const ERROR_CODES = {
  VALIDATION_FAILED: { number: 1001, httpStatus: 400, summary: 'The payload does not match the operation\'s schema; details.errors lists each problem.' },
  PAYLOAD_TOO_LARGE: { number: 1002, httpStatus: 413, summary: 'The payload is larger or more deeply nested than the coordinator accepts.' },
  UNKNOWN_OPERATION: { number: 1003, httpStatus: 404, summary: 'No operation has this name (or no route has this method and path).' },
  VERSION_UNSUPPORTED: { number: 1004, httpStatus: 400, summary: 'The peer\'s protocol version is not one this coordinator speaks; details.supported lists them.' },
  IDEMPOTENCY_KEY_REQUIRED: { number: 1005, httpStatus: 400, summary: 'A mutating request came without an idempotency key.' },
  IDEMPOTENCY_KEY_REUSED: { number: 1006, httpStatus: 422, summary: 'The idempotency key was already used with a different payload.' },
  HELLO_REQUIRED: { number: 1007, httpStatus: 400, summary: 'A socket must complete session.hello before any other operation.' },
  UNAUTHENTICATED: { number: 2001, httpStatus: 401, summary: 'No token, or a token the coordinator does not know (wrong or revoked).' },
  FORBIDDEN: { number: 2002, httpStatus: 403, summary: 'The token is valid but may not perform this operation on this resource.' },
  NOT_HOLDER: { number: 2003, httpStatus: 403, summary: 'The offer or lease belongs to another worker.' },
  RATE_LIMITED: { number: 2004, httpStatus: 429, summary: 'Too many requests from this connection; details.retry_after_ms says when to retry.' },
  REGISTRATION_CLOSED: { number: 2005, httpStatus: 403, summary: 'This coordinator does not accept new workers without an invitation.' },
  NOT_FOUND: { number: 3001, httpStatus: 404, summary: 'The task, offer, lease, repo or worker does not exist.' },
  INVALID_TRANSITION: { number: 3002, httpStatus: 409, summary: 'The task\'s state does not allow this change; details has from and to.' },
  STALE_EPOCH: { number: 3003, httpStatus: 409, summary: 'The lease epoch is not the task\'s current one: this holder lost the lease.' },
  OFFER_EXPIRED: { number: 3004, httpStatus: 409, summary: 'The offer is no longer open (expired, withdrawn or already answered).' },
  LEASE_EXPIRED: { number: 3005, httpStatus: 409, summary: 'The lease has ended (expired, released, cancelled or completed).' },
  ALREADY_EXISTS: { number: 3006, httpStatus: 409, summary: 'A resource with this id already exists.' },
  NOT_ELIGIBLE: { number: 4001, httpStatus: 409, summary: 'The worker may not take this task; details.reasons names every check that failed.' },
  AREA_LOCKED: { number: 4002, httpStatus: 409, summary: 'Another active task in this repo holds the task\'s area.' },
  BUDGET_EXHAUSTED: { number: 4003, httpStatus: 409, summary: 'The repo\'s review budget (max_open_prs or max_new_prs_per_hour) has no room.' },
  GATES_MISSING: { number: 4004, httpStatus: 422, summary: 'pr_opened lacks quality-gate evidence the repo requires; details.missing lists it.' },
  POLICY_DENIED: { number: 4005, httpStatus: 403, summary: 'A repo policy rule refuses this; details.rule names it.' },
  PR_MISMATCH: { number: 4006, httpStatus: 422, summary: 'The reported PR does not match what the code host shows (repo, head branch, author, issue reference); details.mismatches lists each check that failed.' },
  INTERNAL: { number: 5001, httpStatus: 500, summary: 'The coordinator failed unexpectedly; nothing was changed. Retry with the same idempotency key.' },
  UNAVAILABLE: { number: 5002, httpStatus: 503, summary: 'The coordinator cannot make changes durable right now (storage failing or shutting down); nothing was acknowledged.' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** A refusal raised anywhere in OWP; it crosses the wire as `{ ok: false, error }`. */
export class OwpError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'OwpError';
    this.code = code;
    this.details = details;
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(error: WireError): OwpError {
    return new OwpError(error.code, error.message, error.details);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
