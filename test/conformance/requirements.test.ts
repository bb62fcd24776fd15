/**
 * The kit cannot drift from SPEC.md: the registry and Appendix A are generated from it, every
 * requirement id has a conformance test or a named reference test, and every test cites an id
 * that exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { REQUIREMENTS_FILE, renderRequirementsModule, renderSpecAppendix } from '../../conformance/generate.ts';
import { CLIENT_CHECKS } from '../../conformance/client/checks.ts';
import { REFERENCE_COVERAGE } from '../../conformance/reference-coverage.ts';
import { REQUIREMENTS } from '../../conformance/requirements.ts';
import { parseRequirements } from '../../conformance/spec-requirements.ts';
import { ALL_SUITES } from '../../conformance/suites.ts';
import { LEVEL_RANK } from '../../conformance/types.ts';

const spec = readFileSync('protocol/SPEC.md', 'utf8');
const tests = ALL_SUITES.flatMap((s) => s.tests.map((t) => ({ area: s.area, test: t })));

test('conformance/requirements.ts is generated from SPEC.md (run `npm run gen:conformance` when this fails)', () => {
  assert.equal(readFileSync(REQUIREMENTS_FILE, 'utf8'), renderRequirementsModule(spec));
  assert.deepEqual(REQUIREMENTS.map((r) => r.id), [...spec.matchAll(/\*\*([A-Z]+-\d{3})\*\*/g)].map((m) => m[1]));
});

test('SPEC.md Appendix A lists every requirement and what covers it (run `npm run gen:conformance` when this fails)', () => {
  assert.equal(renderSpecAppendix(spec, ALL_SUITES), spec);
  assert.doesNotMatch(spec, /\*\*not covered\*\*/);
});

test('every requirement id has a conformance test or a named reference test', () => {
  const covered = new Set([...tests.map((t) => t.test.requirement), ...CLIENT_CHECKS.map((c) => c.requirement), ...Object.keys(REFERENCE_COVERAGE)]);
  const missing = parseRequirements(spec).map((r) => r.id).filter((id) => !covered.has(id));
  assert.deepEqual(missing, [], `requirements with no test: ${missing.join(', ')}`);
});

test('every conformance test cites an existing requirement id at a level no stronger than the requirement', () => {
  const byId = new Map(REQUIREMENTS.map((r) => [r.id, r]));
  for (const { area, test: t } of tests) {
    const req = byId.get(t.requirement);
    assert.ok(req, `[${area}] "${t.title}" cites ${t.requirement}, which SPEC.md does not define`);
    if (t.level) assert.ok(LEVEL_RANK[t.level] >= LEVEL_RANK[req.level], `[${area}] "${t.title}" is ${t.level} but ${req.id} is only ${req.level}`);
  }
  const titles = tests.map((t) => t.test.title);
  assert.equal(new Set(titles).size, titles.length, 'test titles must be unique (they name JUnit cases)');
});

test('every reference-coverage entry names a test file that exists and cites the id', () => {
  for (const [id, { file, evidence }] of Object.entries(REFERENCE_COVERAGE)) {
    assert.ok(REQUIREMENTS.some((r) => r.id === id), `${id} is not a SPEC.md requirement`);
    assert.ok(existsSync(file), `${file} (covering ${id}) does not exist`);
    assert.ok(readFileSync(file, 'utf8').includes(evidence ?? id), `${file} does not mention ${evidence ?? id}`);
  }
});
