/** Inferring a change's area from the paths it touches (protocol/area-inference.ts inferArea). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inferArea } from '../../protocol/area-inference.ts';

const AREAS = {
  'docs/api': ['docs/api/**'],
  docs: ['docs/**', '*.md'],
  tests: ['test/**', '**/*.test.ts'],
  core: ['src/**'],
  ci: ['.github/**'],
};

describe('area inference', () => {
  test('paths all in one area give that area', () => {
    assert.equal(inferArea(['src/a.ts', 'src/deep/b.ts'], AREAS).area, 'core');
    assert.equal(inferArea(['README.md', 'docs/guide.md'], AREAS).area, 'docs');
  });

  test('the first area listed wins, so a specific area before a broad one owns its paths', () => {
    const result = inferArea(['docs/api/x.md', 'docs/api/y/z.md'], AREAS);
    assert.equal(result.area, 'docs/api');
    assert.deepEqual(result.byPath, { 'docs/api/x.md': 'docs/api', 'docs/api/y/z.md': 'docs/api' });
    const reversed = { docs: AREAS.docs, 'docs/api': AREAS['docs/api'] };
    assert.equal(inferArea(['docs/api/x.md'], reversed).area, 'docs');
  });

  test('an area listed earlier wins over a later one: a test file under src/ belongs to tests', () => {
    assert.equal(inferArea(['src/engine.test.ts'], AREAS).area, 'tests');
  });

  test('paths spanning areas give no single area, and name them in contract order', () => {
    const result = inferArea(['src/a.ts', 'docs/x.md', 'test/a.test.ts'], AREAS);
    assert.equal(result.area, undefined);
    assert.deepEqual(result.areas, ['docs', 'tests', 'core']);
  });

  test('a path no glob matches is unmatched, and the change then has no area', () => {
    const result = inferArea(['src/a.ts', 'Makefile'], AREAS);
    assert.equal(result.area, undefined);
    assert.deepEqual(result.unmatched, ['Makefile']);
    assert.deepEqual(result.areas, ['core']);
  });

  test('dot folders match, and ./ or Windows separators are normalised', () => {
    assert.equal(inferArea(['.github/workflows/ci.yml'], AREAS).area, 'ci');
    assert.equal(inferArea(['./src/a.ts', 'src\\b.ts'], AREAS).area, 'core');
  });

  test('no paths or no areas infer nothing', () => {
    assert.equal(inferArea([], AREAS).area, undefined);
    assert.deepEqual(inferArea(['src/a.ts'], {}), { area: undefined, byPath: { 'src/a.ts': undefined }, areas: [], unmatched: ['src/a.ts'] });
  });
});
