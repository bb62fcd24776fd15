/**
 * Idempotency (SPEC §5.12): a mutating request carries a key; the same key with the same payload
 * within 24 h answers what the first request answered, without changing anything again; the same
 * key with another payload is refused. The record rides on the request's first event, so it is
 * durable exactly when the change is. Two replays are not plain: a replayed worker.register or
 * maintainer.create issues a new token (the first one was shown once and is not stored).
 */
import { hash } from 'node:crypto';
import { OwpError } from '../../protocol/errors.ts';
import { OPERATIONS, type OperationName, type Result } from '../../protocol/operations.ts';
import { hashToken, newToken, principalScope, type Principal } from '../auth.ts';
import type { IdempotencyRecord } from '../state/records.ts';
import { keptAnswer, type KeptIdempotency } from '../state/idempotency-keys.ts';
import type { Command } from './command.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/**
 * Runs `run` under the request's idempotency key when the operation needs one: refuses a missing
 * or reused key, replays a repeated request, and records the answer on the first event written.
 */
export function withIdempotency(cmd: Command, principal: Principal, name: OperationName, params: Record<string, unknown>, run: () => unknown): unknown {
  const descriptor = OPERATIONS[name];
  if (!descriptor.mutating || descriptor.idempotentByNature) return run();
  const key = typeof params.idempotency_key === 'string' ? params.idempotency_key : undefined;
  if (!key) {
    throw new OwpError('IDEMPOTENCY_KEY_REQUIRED', `${name} changes state, so it needs an idempotency_key (any unique string up to 255 characters; reuse it only to retry the same request).`);
  }
  const scope = principalScope(principal);
  const hash = payloadHash(name, params);
  const existing = cmd.state.idempotency.get(scope, key);
  if (existing && existing.at + IDEMPOTENCY_TTL_MS > cmd.now) {
    if (existing.hash !== hash || existing.op !== name) {
      throw new OwpError('IDEMPOTENCY_KEY_REUSED', `The idempotency key "${key}" was used for a different ${existing.op} request. Use a new key for a new request.`, { op: existing.op });
    }
    if (existing.answer === undefined) {
      // Restored from a snapshot and not read back from the journal (Runtime.call does that first).
      throw new OwpError('UNAVAILABLE', `The first answer to the idempotency key "${key}" could not be read back from the journal right now; nothing was changed. Retry with the same key.`);
    }
    if (name === 'worker.register') return rotateWorkerToken(cmd, existing);
    if (name === 'maintainer.create') return rotateMaintainerToken(cmd, existing);
    cmd.replayOf = existing;
    return keptAnswer(existing);
  }
  const record: IdempotencyRecord = { scope, key, op: name, hash, result: undefined, at: cmd.now };
  const result = run();
  record.result = redactTokens(name, result);
  const first = cmd.events[0];
  if (!first) throw new Error(`${name} wrote no event; every mutating operation must`);
  record.seq = first.seq;
  first.idem = record;
  cmd.state.idempotency.remember(record);
  return result;
}

/** The id of the entity a stored answer was about (`{ worker: { id } }`, `{ maintainer: { id } }`). */
function answeredId(result: unknown, entity: 'worker' | 'maintainer'): string {
  if (typeof result === 'object' && result !== null && entity in result) {
    const value: unknown = Reflect.get(result, entity);
    if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string') return value.id;
  }
  throw new Error(`the stored answer of this idempotency key names no ${entity}`);
}

function rotateWorkerToken(cmd: Command, existing: KeptIdempotency): Result<'worker.register'> {
  const w = cmd.state.mustWorker(answeredId(keptAnswer(existing), 'worker'));
  if (w.record.revoked) throw new OwpError('UNAUTHENTICATED', 'This worker was revoked; register with a new idempotency key.');
  const token = newToken('worker');
  cmd.emit({ type: 'worker.token_rotated', worker_id: w.record.id, data: { token_hash: hashToken(token) } });
  return { worker: cmd.state.workerView(w), token };
}

function rotateMaintainerToken(cmd: Command, existing: KeptIdempotency): Result<'maintainer.create'> {
  const token = newToken('maintainer');
  const m = cmd.state.maintainers.get(answeredId(keptAnswer(existing), 'maintainer'));
  if (!m) throw new OwpError('NOT_FOUND', 'The maintainer of this idempotency key is gone.');
  // A replay must not bring a revoked token's maintainer back.
  if (m.revoked) throw new OwpError('FORBIDDEN', `Maintainer ${m.id} was revoked; create a new one with a new idempotency key.`, { maintainer_id: m.id });
  cmd.emit({ type: 'maintainer.created', data: { id: m.id, name: m.name, repos: m.repos, token_hash: hashToken(token) } });
  return { maintainer: { id: m.id, name: m.name, repos: [...m.repos] }, token };
}

/** Canonical hash of an operation's payload without its idempotency key. */
export function payloadHash(name: string, params: Record<string, unknown>): string {
  // The key itself is left out as the walk meets it, not by a copy of the params without it.
  // One-shot: no Hash object per request (bench/README.md, "Where a task's time goes").
  return hash('sha256', `${name}\n${canonicalJson(params, 'idempotency_key')}`, 'hex');
}

/** What JSON.stringify escapes in a string: control characters, the quote, the backslash, and (only when alone) surrogates. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * JSON.stringify of a string, without its call for a string with nothing to escape (nearly every
 * key and value of a payload): one call per key and string value was most of a payload hash's cost.
 */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * JSON with every object's keys sorted, so the same payload hashes the same whatever its key order.
 * Its output must never change: stored hashes are compared with it after an upgrade. Built by
 * appending to one string (no array and join per level): a bulk create hashes 1,000 tasks at once.
 */
export function canonicalJson(value: unknown, omitKey?: string): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'object':
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const k of Object.keys(value).sort()) {
    const v: unknown = Reflect.get(value, k);
    if (v === undefined || k === omitKey) continue;
    out += (first ? '' : ',') + jsonString(k) + ':' + canonicalJson(v);
    first = false;
  }
  return `${out}}`;
}

/**
 * Secrets are never written to the journal: a stored answer keeps everything but the token. A
 * registration's replay answers from the worker as it is then (rotateWorkerToken), so its stored
 * answer keeps only the worker's id, and a stranger's profile is not journaled twice.
 */
function redactTokens(name: string, result: unknown): unknown {
  if (name === 'worker.register') return { worker: { id: answeredId(result, 'worker') } };
  if (name === 'maintainer.create' && typeof result === 'object' && result !== null && 'token' in result) {
    const { token: _t, ...rest } = result;
    return rest;
  }
  return result;
}
