import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles, renderSpec } from '../../protocol/generate.ts';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { OPERATIONS } from '../../protocol/operations.ts';

test('generated JSON Schemas, OpenAPI and AsyncAPI match protocol/*.ts (run `npm run gen` when this fails)', () => {
  const files = generatedFiles();
  for (const [path, content] of files) {
    assert.ok(existsSync(path), `${path} is missing; run npm run gen`);
    assert.equal(readFileSync(path, 'utf8'), content, `${path} is stale; run npm run gen`);
  }
  for (const dir of ['protocol/schemas/model', 'protocol/schemas/operations', 'protocol/schemas/notifications', 'protocol/schemas/events']) {
    for (const name of readdirSync(dir)) assert.ok(files.has(join(dir, name)), `${dir}/${name} is no longer generated; delete it`);
  }
});

test('SPEC.md tables are up to date', () => {
  const spec = readFileSync('protocol/SPEC.md', 'utf8');
  assert.equal(renderSpec(spec), spec, 'SPEC.md generated tables are stale; run npm run gen');
});

test('SPEC.md names every operation and every error code', () => {
  const spec = readFileSync('protocol/SPEC.md', 'utf8');
  for (const name of Object.keys(OPERATIONS)) assert.ok(spec.includes(`\`${name}\``), `SPEC.md does not mention ${name}`);
  for (const code of Object.keys(ERROR_CODES)) assert.ok(spec.includes(`\`${code}\``), `SPEC.md does not mention ${code}`);
});

test('every requirement id in SPEC.md is unique', () => {
  const spec = readFileSync('protocol/SPEC.md', 'utf8');
  const ids = [...spec.matchAll(/\*\*([A-Z]+-\d{3})\*\*/g)].map((m) => m[1]);
  assert.ok(ids.length >= 40, `expected the spec to carry requirement ids, found ${ids.length}`);
  assert.equal(new Set(ids).size, ids.length, 'duplicate requirement ids');
});
