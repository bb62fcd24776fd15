/** Where the cursor is in a half-written YAML file, and what the schema says there (lsp/schema-cursor.ts). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cursorContext, keyAt, literalValues, schemaAt, siblingKeys } from '../../lsp/schema-cursor.ts';
import { RepoContractSchema } from '../../protocol/contract-schema.ts';
import { RepoPolicySchema } from '../../protocol/policy-schema.ts';

/** Splits `text` at the `|` marker into the text and the cursor offset. */
function at(marked: string): [string, number] {
  const offset = marked.indexOf('|');
  return [marked.slice(0, offset) + marked.slice(offset + 1), offset];
}

describe('cursor context', () => {
  const cases: Array<[string, ReturnType<typeof cursorContext>]> = [
    ['te|', { path: [], kind: 'key', prefix: 'te' }],
    ['pr:\n  ti|', { path: ['pr'], kind: 'key', prefix: 'ti' }],
    ['pr:\n  draft: t|', { path: ['pr', 'draft'], kind: 'value', prefix: 't' }],
    ['gates: [tests, l|', { path: ['gates', '*'], kind: 'value', prefix: 'l' }],
    ['gates: [|', { path: ['gates', '*'], kind: 'value', prefix: '' }],
    ['safe_lanes:\n  - do|', { path: ['safe_lanes', '*'], kind: 'value', prefix: 'do' }],
    ['tiers:\n  - from_tier: 2\n    min|', { path: ['tiers', '*'], kind: 'key', prefix: 'min' }],
    ['tiers:\n  - from_tier: 2\n    min_trust: |', { path: ['tiers', '*', 'min_trust'], kind: 'value', prefix: '' }],
    ['areas:\n  core:\n    # a comment\n\n    risky: |', { path: ['areas', 'core', 'risky'], kind: 'value', prefix: '' }],
    ['areas:\n  core: { risky: t|', { path: ['areas', 'core', 'risky'], kind: 'value', prefix: 't' }],
    ['logins:\n  allow:\n    - alice\n  de|', { path: ['logins'], kind: 'key', prefix: 'de' }],
    ['foo:\n  - bar:\n      baz|', { path: ['foo', '*', 'bar'], kind: 'key', prefix: 'baz' }],
  ];
  for (const [marked, expected] of cases) {
    test(JSON.stringify(marked), () => {
      const [text, offset] = at(marked);
      assert.deepEqual(cursorContext(text, offset), expected);
    });
  }
});

describe('schema at a path', () => {
  test('follows properties, records, list items and unions', () => {
    assert.equal(schemaAt(RepoContractSchema, ['pr', 'draft'])?.type, 'boolean');
    assert.equal(schemaAt(RepoContractSchema, ['areas', 'docs', '*'])?.type, 'string');
    assert.deepEqual(literalValues(schemaAt(RepoContractSchema, ['gates', '*'])), ['setup', 'tests', 'lint', 'checklist']);
    assert.equal(schemaAt(RepoContractSchema, ['test', '*'])?.type, 'string', 'into the list branch of a command union');
    assert.deepEqual(literalValues(schemaAt(RepoPolicySchema, ['tiers', '*', 'min_trust'])), ['0', '1', '2', '3']);
    assert.equal(schemaAt(RepoPolicySchema, ['areas', 'core/db', 'risky'])?.type, 'boolean');
    assert.equal(schemaAt(RepoPolicySchema, ['nope']), undefined);
    assert.equal(schemaAt(RepoPolicySchema, ['x_custom']), undefined, 'extension keys explain nothing');
  });
});

describe('keys for hover and for completion', () => {
  test('the key under the cursor, with its path, on the key or its value', () => {
    const text = 'areas:\n  core:\n    risky: true\ntiers:\n  - from_tier: 2\n';
    assert.deepEqual(keyAt(text, text.indexOf('risky') + 2), { path: ['areas', 'core', 'risky'], key: 'risky' });
    assert.deepEqual(keyAt(text, text.indexOf('true') + 1), { path: ['areas', 'core', 'risky'], key: 'risky' });
    assert.deepEqual(keyAt(text, text.indexOf('from_tier')), { path: ['tiers', '*', 'from_tier'], key: 'from_tier' });
    assert.equal(keyAt('- docs\n', 2), undefined);
  });

  test('keys already written in the same mapping', () => {
    const [top, topAt] = at('test: t\npr:\n  draft: true\n|\nlint: l\n');
    assert.deepEqual([...siblingKeys(top, topAt)].sort(), ['lint', 'pr', 'test']);
    const [nested, nestedAt] = at('pr:\n  title: x\n  |\n  draft: true\ngates: []\n');
    assert.deepEqual([...siblingKeys(nested, nestedAt)].sort(), ['draft', 'title']);
    const [item, itemAt] = at('tiers:\n  - from_tier: 1\n    min_trust: 1\n  - from_tier: 2\n    |\n');
    assert.deepEqual([...siblingKeys(item, itemAt)], ['from_tier'], 'only the keys of this list item');
  });
});
