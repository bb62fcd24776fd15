/**
 * Validation of inbound payloads against the protocol schemas (Ajv compiles the TypeBox schemas,
 * which are plain JSON Schema). Also the structural limits every payload must meet before schema
 * validation: size, nesting depth and no prototype-polluting keys.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { OwpError, type ErrorCode } from './errors.ts';
import { OPERATIONS, type OperationName, type Params } from './operations.ts';
import type { TSchema } from '@sinclair/typebox';

export const LIMITS = {
  maxPayloadBytes: 256 * 1024,
  /**
   * The largest socket.io frame (socket.io's maxHttpBufferSize): a bigger frame closes the connection
   * before any operation sees it. Four times the payload limit, so every payload between the two
   * limits is answered with PAYLOAD_TOO_LARGE (SPEC VAL-001) on an open socket (BIND-002).
   */
  maxFrameBytes: 4 * 256 * 1024,
  maxDepth: 16,
  /**
   * Keys and array items in one payload, all levels together. A full task.create_many (1,000 tasks
   * with a handful of fields each) needs about 10,000; the byte limit bounds the work either way.
   */
  maxKeys: 20_000,
  /**
   * A worker's `x_*` profile data, all keys together, as JSON. Anyone may register a worker and
   * its record is journaled, so what a stranger can make the coordinator keep is kept small.
   */
  maxWorkerExtensionBytes: 4096,
} as const;

/** The `x_*` fields of an object. */
export function extensionFields(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k.startsWith('x_')));
}

/** Refuses a worker profile whose `x_*` data (after merging into the current record) is over the limit. */
export function assertWorkerExtensions(changes: object, current: object = {}): void {
  const merged = { ...extensionFields(current), ...extensionFields(changes) };
  const bytes = Buffer.byteLength(JSON.stringify(merged));
  if (bytes > LIMITS.maxWorkerExtensionBytes) {
    throw new OwpError('PAYLOAD_TOO_LARGE', `A worker's x_* profile data is ${bytes} bytes; the limit is ${LIMITS.maxWorkerExtensionBytes}. Keep extension fields small.`, { max_worker_extension_bytes: LIMITS.maxWorkerExtensionBytes });
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Keys and items met so far by the walk under way (checkStructure is synchronous and never re-entered). */
let keysSeen = 0;

/**
 * Rejects payloads that are too deep, too wide or carry prototype-polluting keys, and answers an
 * upper bound on the size of the payload's JSON (UTF-8 bytes of JSON.stringify), found on the same
 * walk: a binding serialises a payload to measure it exactly only when the bound is over its limit,
 * not every payload of every request. Infinity for anything that is not JSON (no bound is known).
 */
export function checkStructure(value: unknown): number {
  keysSeen = 0;
  return walkStructure(value, 0);
}

/**
 * A string's JSON is at most 6 bytes per UTF-16 unit (an escape such as \u001f or a lone surrogate's
 * \udc00; otherwise 3 bytes of UTF-8, or 4 for a pair of units) plus its quotes. A number's is at
 * most 25 characters (-1.2345678901234567e-308; -0.0000012345678901234567).
 */
function walkStructure(node: unknown, depth: number): number {
  switch (typeof node) {
    case 'string':
      return 2 + 6 * node.length;
    case 'number':
      return 25;
    case 'boolean':
      return 5;
    case 'object':
      break;
    default:
      return Infinity;
  }
  if (node === null) return 4;
  if (depth > LIMITS.maxDepth) {
    throw new OwpError('PAYLOAD_TOO_LARGE', `The payload is nested deeper than ${LIMITS.maxDepth} levels. Flatten it.`, { max_depth: LIMITS.maxDepth });
  }
  let bytes = 2;
  if (Array.isArray(node)) {
    keysSeen += node.length;
    if (keysSeen > LIMITS.maxKeys) throw tooWide();
    for (const item of node) bytes += walkStructure(item, depth + 1) + 1;
    return bytes;
  }
  // A payload is plain JSON: an object whose prototype is not Object's was built by assigning a
  // "__proto__" key (its fields would then be inherited, and met a schema's `required` unseen).
  const proto: unknown = Object.getPrototypeOf(node);
  if (proto !== Object.prototype && proto !== null) {
    throw new OwpError('VALIDATION_FAILED', 'The payload is not a plain JSON object (its prototype was replaced).', { errors: [{ path: '', message: 'forbidden key __proto__' }] });
  }
  for (const k of Object.keys(node)) {
    if (FORBIDDEN_KEYS.has(k)) {
      throw new OwpError('VALIDATION_FAILED', `The key "${k}" is not allowed anywhere in a payload.`, { errors: [{ path: '', message: `forbidden key ${k}` }] });
    }
    keysSeen += 1;
    if (keysSeen > LIMITS.maxKeys) throw tooWide();
    bytes += 4 + 6 * k.length + walkStructure((node as Record<string, unknown>)[k], depth + 1);
  }
  return bytes;
}

function tooWide(): OwpError {
  return new OwpError('PAYLOAD_TOO_LARGE', `The payload has more than ${LIMITS.maxKeys} keys and items. Send less at once.`, { max_keys: LIMITS.maxKeys });
}

// The schemas are ours (TypeBox), checked against the meta-schema by test/unit/params-schemas.test.ts,
// so Ajv does not check them again: that compiled the meta-schema at the first request of each
// instance, tens of ms of the first answers after every start.
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
// Query strings arrive as text; this instance turns "10" into 10 and "true" into true for GET routes.
const ajvCoercing = new Ajv({ allErrors: true, strict: false, coerceTypes: true, validateSchema: false });

const compiled = new Map<string, ValidateFunction>();
const compiledCoercing = new Map<string, ValidateFunction>();

function validatorFor(name: OperationName, coerce: boolean): ValidateFunction {
  const cache = coerce ? compiledCoercing : compiled;
  let fn = cache.get(name);
  if (!fn) {
    fn = (coerce ? ajvCoercing : ajv).compile(OPERATIONS[name].params as TSchema);
    cache.set(name, fn);
  }
  return fn;
}

export function formatAjvErrors(errors: ErrorObject[] | null | undefined): Array<{ path: string; message: string }> {
  return (errors ?? []).slice(0, 20).map((e) => {
    const path = e.instancePath || '/';
    if (e.keyword === 'additionalProperties') {
      return { path, message: `unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}" (only x_* extension fields may be added)` };
    }
    if (e.keyword === 'required') {
      return { path, message: `missing required field "${String((e.params as { missingProperty: string }).missingProperty)}"` };
    }
    return { path, message: e.message ?? e.keyword };
  });
}

/** Payloads validateParams accepted, with the operation they were checked for (see assertParams). */
const accepted = new WeakMap<object, OperationName>();

/** Validates params for an operation, throwing VALIDATION_FAILED with every problem listed. */
export function validateParams(name: OperationName, params: unknown, options: { coerce?: boolean } = {}): void {
  checkStructure(params);
  validateSchema(name, params, options);
}

/**
 * validateParams without the structural limits, for a binding that has just checked them itself
 * (checkStructure, whose byte bound it needed): the same payload is not walked twice.
 */
export function validateSchema(name: OperationName, params: unknown, options: { coerce?: boolean } = {}): void {
  const fn = validatorFor(name, options.coerce === true);
  if (!fn(params)) throw invalidParams(name, params, fn.errors);
  if (typeof params === 'object' && params !== null) accepted.set(params, name);
}

/**
 * Checks params against the operation's schema (without the size and depth limits), so the code
 * behind it may use them as typed. A payload a binding has already passed through validateParams
 * for the same operation is not checked twice: the engine runs this on every command.
 */
export function assertParams<K extends OperationName>(name: K, params: unknown): asserts params is Params<K> {
  if (typeof params === 'object' && params !== null && accepted.get(params) === name) return;
  const fn = validatorFor(name, false);
  if (!fn(params)) throw invalidParams(name, params, fn.errors);
}

/** Bulk operations and the field holding their items: a refusal reports each refused item (SPEC MAINT-007). */
const BULK_ITEMS: Partial<Record<OperationName, string>> = { 'task.create_many': 'tasks' };

/** One refused item of a bulk operation, as `details.items` lists it. */
export interface ItemError {
  index: number;
  code: ErrorCode;
  message: string;
  errors?: Array<{ path: string; message: string }>;
}

/** At most this many refused items are listed (details.refused counts them all). */
export const MAX_ITEM_ERRORS = 100;

/** The refusal of a whole bulk request: the first refused item's code, and every refused item. */
export function bulkRefusal(name: string, total: number, items: ItemError[]): OwpError {
  const sorted = [...items].sort((a, b) => a.index - b.index);
  const first = sorted[0] as ItemError;
  return new OwpError(first.code, `${name}: ${sorted.length} of ${total} items were refused and nothing was created; item ${first.index}: ${first.message}. Fix the items listed in details.items and send the request again.`, {
    refused: sorted.length,
    items: sorted.slice(0, MAX_ITEM_ERRORS),
  });
}

function itemErrors(field: string, ajvErrors: ErrorObject[]): ItemError[] | undefined {
  const byIndex = new Map<number, ErrorObject[]>();
  for (const e of ajvErrors) {
    const match = new RegExp(`^/${field}/(\\d+)(/|$)`).exec(e.instancePath);
    if (!match) return undefined; // a problem with the request itself, not with one item
    const index = Number(match[1]);
    byIndex.set(index, [...(byIndex.get(index) ?? []), e]);
  }
  return [...byIndex].map(([index, errs]) => {
    const errors = formatAjvErrors(errs.map((e) => ({ ...e, instancePath: e.instancePath.slice(`/${field}/${index}`.length) }))).slice(0, 5);
    const first = errors[0] as { path: string; message: string };
    return { index, code: 'VALIDATION_FAILED', message: `${first.path} ${first.message}`, errors };
  });
}

function invalidParams(name: OperationName, params: unknown, ajvErrors: ErrorObject[] | null | undefined): OwpError {
  const field = BULK_ITEMS[name];
  const items = field && ajvErrors && ajvErrors.length > 0 ? itemErrors(field, ajvErrors) : undefined;
  const list: unknown = field && typeof params === 'object' && params !== null ? Reflect.get(params, field) : undefined;
  if (items && Array.isArray(list)) return bulkRefusal(name, list.length, items);
  const errors = formatAjvErrors(ajvErrors);
  const first = errors[0];
  return new OwpError('VALIDATION_FAILED', `Invalid ${name} payload: ${first ? `${first.path} ${first.message}` : 'schema mismatch'}. Fix the listed fields and retry.`, { errors });
}

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === 'string' && Object.hasOwn(OPERATIONS, name);
}
