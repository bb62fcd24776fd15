/**
 * The `owp` exit codes, one table for every command (like gh's): scripts can tell "the answer is
 * no" from "you typed it wrong" from "the coordinator is not there" without reading the text.
 */
import { OwpError } from '../protocol/errors.ts';

export const EXIT = {
  /** Done; for a question (`policy explain`), the answer is yes. */
  ok: 0,
  /** The command ran and the answer is no, or it failed: a worker cannot take the task, a file has errors, a gate failed. */
  failed: 1,
  /** Bad usage: an unknown command or flag, a missing or malformed value. */
  usage: 2,
  /** The coordinator could not be reached, or cannot make changes right now (UNAVAILABLE). */
  unavailable: 3,
  /** The token is missing from the coordinator's view, revoked, or not allowed (UNAUTHENTICATED, FORBIDDEN). */
  auth: 4,
  /** The task, worker, repo, lease or offer named does not exist (NOT_FOUND). */
  notFound: 5,
} as const;

/** The lines `owp --help` and the README print. */
export const EXIT_CODES_HELP = `Exit codes: 0 ok (for policy explain: the worker could take the task) · 1 failed or "no"
            2 usage (unknown command or flag) · 3 coordinator unreachable or unavailable
            4 auth (token unknown, revoked or not allowed) · 5 not found (task, worker, repo)`;

/** The exit code for a protocol error a command let through. */
export function exitCodeForOwpError(error: OwpError): number {
  switch (error.code) {
    case 'UNAVAILABLE':
      return EXIT.unavailable;
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return EXIT.auth;
    case 'NOT_FOUND':
      return EXIT.notFound;
    default:
      return EXIT.failed;
  }
}
