/**
 * The command entry: one handler per protocol operation, typed by the operation's params and
 * result schemas (protocol/operations.ts). A new operation does not compile until it has a handler
 * here, and a handler cannot return what its result schema does not allow.
 */
import { OwpError } from '../../protocol/errors.ts';
import { OPERATIONS, type OperationName, type Params, type Result } from '../../protocol/operations.ts';
import { assertParams } from '../../protocol/validate.ts';
import type { Principal } from '../auth.ts';
import { authorize } from './access.ts';
import type { Command } from './command.ts';
import { withIdempotency } from './idempotency.ts';
import { MAINTAINER_OPERATIONS } from './maintainer-operations.ts';
import { READ_OPERATIONS } from './reads.ts';
import { WORKER_OPERATIONS } from './worker-operations.ts';

export type OperationHandler<K extends OperationName> = (cmd: Command, principal: Principal, params: Params<K>) => Result<K>;
export type OperationHandlers = { [K in OperationName]: OperationHandler<K> };

/** Operations a binding answers itself, before the engine. */
const BINDING_OPERATIONS = {
  'session.hello': () => {
    throw new OwpError('UNKNOWN_OPERATION', 'session.hello is handled by the socket binding.');
  },
  'journal.read': () => {
    throw new OwpError('UNKNOWN_OPERATION', 'journal.read is served by the runtime from the store.');
  },
} satisfies Partial<OperationHandlers>;

export const OPERATION_HANDLERS: OperationHandlers = { ...BINDING_OPERATIONS, ...READ_OPERATIONS, ...WORKER_OPERATIONS, ...MAINTAINER_OPERATIONS };

/**
 * Runs one operation for a principal: who may call it, its params against its schema (the
 * bindings validated them already; this is what lets the handlers trust their types), its
 * idempotency key, then its handler.
 */
export function runOperation(cmd: Command, principal: Principal, name: OperationName, params: Record<string, unknown>): unknown {
  authorize(principal, OPERATIONS[name].auth, name);
  assertParams(name, params);
  return withIdempotency(cmd, principal, name, params, () => dispatch(cmd, principal, name, params));
}

/** Generic over the operation, so the handler and its params are known to belong together. */
function dispatch<K extends OperationName>(cmd: Command, principal: Principal, name: K, params: Params<K>): Result<K> {
  const handler: OperationHandler<K> = OPERATION_HANDLERS[name];
  return handler(cmd, principal, params);
}
