/**
 * Every operation's params schema is a valid JSON Schema. protocol/validate.ts compiles them
 * without Ajv's own check against the meta-schema (it cost the first request after every start
 * the meta-schema's compilation), so the check is made here, once, for all of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { OPERATIONS, type OperationName } from '../../protocol/operations.ts';

test('every operation\'s params and result schemas pass the JSON Schema meta-schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const names = Object.keys(OPERATIONS) as OperationName[];
  assert.ok(names.length > 20);
  for (const name of names) {
    for (const part of ['params', 'result'] as const) {
      const schema = OPERATIONS[name][part];
      assert.equal(ajv.validateSchema(schema as object), true, `${name} ${part}: ${ajv.errorsText(ajv.errors)}`);
    }
  }
  // The check bites: a schema that is not one is refused.
  assert.equal(ajv.validateSchema({ type: 'objekt' }), false);
});
