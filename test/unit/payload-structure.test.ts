import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, checkStructure } from '../../protocol/validate.ts';

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

// The socket binding skips measuring a payload whose bound is under the limit: the bound must never
// be below the real size, whatever the characters, escapes and numbers.
test('checkStructure bounds the JSON size of a payload from above', () => {
  const payloads: unknown[] = [
    {},
    [],
    { a: '' },
    { s: 'plain ascii', n: 1, b: true, z: null },
    { escapes: '"\\\n\r\t\b\f\u0000\u0001\u001f\u007f', emoji: '😀😀', lone: '\ud800x\udc00', wide: 'é€中' },
    { numbers: [-1.7976931348623157e308, -2.2250738585072014e-308, -0.0000012345678901234567, 1e21, -123456789012345680000, 5e-324, -0, NaN, Infinity] },
    { '\u0001\u0002': { 'é"': [[[['\u2028\u2029']]]] } },
    Array.from({ length: 50 }, (_, i) => ({ ['\u0000'.repeat(i)]: '\udfff'.repeat(i) })),
  ];
  // Each value alone too, where no bracket or comma counted generously hides a short bound.
  const values = [...payloads.flatMap((p) => (typeof p === 'object' && p !== null ? Object.values(p).flat(4) : [])), 'x', '"', '\u0000', '\ud800', '😀', true, false, null];
  for (const p of [...payloads, ...values]) assert.ok(checkStructure(p) >= bytes(p), `bound ${checkStructure(p)} < ${bytes(p)} for ${JSON.stringify(p).slice(0, 80)}`);
  // Tight enough to spare the measuring: a lifecycle report is bounded well under the limit.
  const report = { idempotency_key: 'k-1', lease_id: 'L-1', epoch: 1, state: 'pr_opened', pr: { url: 'https://example.invalid/o/r/pull/1', number: 1, gates: [{ name: 'tests', passed: true }] } };
  assert.ok(checkStructure(report) < LIMITS.maxPayloadBytes / 100);
});

test('checkStructure refuses depth, width and prototype keys as before', () => {
  let deep: unknown = 1;
  for (let i = 0; i <= LIMITS.maxDepth + 1; i += 1) deep = { d: deep };
  assert.throws(() => checkStructure(deep), { code: 'PAYLOAD_TOO_LARGE' });
  assert.throws(() => checkStructure({ many: Array.from({ length: LIMITS.maxKeys + 1 }, () => 0) }), { code: 'PAYLOAD_TOO_LARGE' });
  assert.throws(() => checkStructure(JSON.parse('{"a":{"__proto__":{"x":1}}}')), { code: 'VALIDATION_FAILED' });
  assert.throws(() => checkStructure({ constructor: 1 }), { code: 'VALIDATION_FAILED' });
  // The key count starts again at each payload: many small payloads in a row are each within the limit.
  for (let i = 0; i < 3; i += 1) checkStructure({ items: Array.from({ length: LIMITS.maxKeys - 10 }, () => 0) });
});
