import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, payloadHash } from '../../coordinator/engine/idempotency.ts';

/** The first implementation, kept as the reference: stored payload hashes were made with it. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const parts: string[] = [];
  for (const k of Object.keys(value).sort()) {
    const v: unknown = Reflect.get(value, k);
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${reference(v)}`);
  }
  return `{${parts.join(',')}}`;
}

test('canonicalJson writes exactly what the first implementation wrote, for any JSON value (stored idempotency hashes stay valid)', () => {
  const edge = fc.constantFrom<unknown>(-0, 0, 1e21, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER, '', '\u2028', '"\\', '\u0001', '\u001f\u007f', '\ud800', 'x\udc00', '😀', 'é€', undefined, null, true, false);
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(fc.jsonValue({ maxDepth: 1 }), edge, fc.string({ unit: 'grapheme' })),
    node: fc.oneof(
      { depthSize: 'small' },
      tie('leaf'),
      fc.array(tie('node'), { maxLength: 5 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('node'), { maxKeys: 6 }),
    ),
  })).node;
  fc.assert(fc.property(value, (v) => canonicalJson(v) === reference(v)), { numRuns: 2000 });
});

test('the payload hash does not depend on key order, and any changed value changes it', () => {
  const a = payloadHash('task.create', { repo: 'o/r', title: 't', skills: ['docs'], idempotency_key: 'k1' });
  const b = payloadHash('task.create', { skills: ['docs'], title: 't', repo: 'o/r', idempotency_key: 'k2' });
  assert.equal(a, b);
  assert.notEqual(a, payloadHash('task.create', { repo: 'o/r', title: 't', skills: ['doc'], idempotency_key: 'k1' }));
  assert.equal(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true, u: undefined }), '{"a":true,"b":[1,{"c":"x","d":null}]}');
});

test('the payload hash is the first implementation\'s: the params without their top-level idempotency_key, nested ones kept', () => {
  const first = (name: string, params: Record<string, unknown>): string => {
    const { idempotency_key: _k, ...rest } = params;
    return createHash('sha256').update(`${name}\n${reference(rest)}`).digest('hex');
  };
  const params = fc.dictionary(fc.constantFrom('idempotency_key', 'lease_id', 'epoch', 'reason', 'pr', 'a'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(fc.constantFrom('idempotency_key', 'x'), fc.string(), { maxKeys: 2 })), { maxKeys: 5 });
  fc.assert(fc.property(params, (p) => payloadHash('lease.release', p) === first('lease.release', p)), { numRuns: 1000 });
  // A nested key of that name is payload: it changes the hash.
  assert.notEqual(payloadHash('x', { idempotency_key: 'k', pr: { idempotency_key: 'a' } }), payloadHash('x', { idempotency_key: 'k', pr: { idempotency_key: 'b' } }));
});
