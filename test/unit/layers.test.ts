/**
 * The architecture is tested, not hoped for: every import of every source file is read and must
 * keep the layers of ARCHITECTURE.md (protocol at the bottom, client / coordinator / dashboard /
 * lsp / conformance on it, extension and cli on top; nothing but extension/ imports vscode), and
 * the diagram in ARCHITECTURE.md must be exactly the arrows the code has, so it cannot drift.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { importGraph, partArrows, PARTS, type ImportEdge, type Part, type Target } from '../helpers/import-graph.ts';
import { drawnArrows, isKnownException, KNOWN_EXCEPTIONS, layerViolations } from '../helpers/layers.ts';

const graph = importGraph();

function edge(file: string, specifier: string, from: Part, to: Target, toFile?: string, typeOnly = false): ImportEdge {
  return { file, specifier, from, to, typeOnly, ...(toFile ? { toFile } : {}) };
}

describe('layers', () => {
  test('the import graph is read from every part', () => {
    const parts = new Set(graph.map((e) => e.from));
    for (const part of PARTS) assert.ok(parts.has(part), `no imports read from ${part}`);
    assert.ok(graph.some((e) => e.file === 'extension/ai-handoff.ts' && e.to === 'vscode'), 'vscode imports are seen');
    assert.ok(graph.some((e) => e.file === 'media/dashboard/main.ts' && e.toFile === 'media/dashboard/shell.ts'), 'relative imports are resolved');
    assert.ok(graph.some((e) => e.file === 'coordinator/dashboard-static.ts' && e.specifier === './http.ts' && e.typeOnly), 'type-only imports are told apart');
  });

  test('no import points the wrong way', () => {
    assert.deepEqual(layerViolations(graph), []);
  });

  test('every known exception still exists (remove it from test/helpers/layers.ts once it is fixed)', () => {
    for (const x of KNOWN_EXCEPTIONS) assert.ok(graph.some((e) => isKnownException(e) && e.file === x.file), `${x.file} → ${x.toFile} is gone: delete its exception`);
  });

  test('ARCHITECTURE.md draws exactly the arrows between parts that the code has', () => {
    const actual = partArrows(graph.filter((e) => !isKnownException(e)));
    const drawn = drawnArrows(readFileSync('ARCHITECTURE.md', 'utf8'));
    const missing = actual.filter((a) => !drawn.includes(a));
    const stale = drawn.filter((a) => !actual.includes(a));
    assert.deepEqual({ missing, stale }, { missing: [], stale: [] }, `ARCHITECTURE.md's diagram differs from the code. Its arrows are:\n${actual.map((a) => `  ${a}`).join('\n')}`);
  });

  // The rules bite: one deliberately bad import per rule, each caught with its reason.
  test('each rule catches its bad import', () => {
    const bad: Array<[ImportEdge, RegExp]> = [
      [edge('client/gates.ts', 'vscode', 'client', 'vscode'), /only extension\/ imports `vscode`/],
      [edge('client/gates.ts', 'vscode', 'client', 'vscode', undefined, true), /only extension\/ imports `vscode`/],
      [edge('test/unit/x.test.ts', 'vscode', 'test', 'vscode'), /only extension\/ imports `vscode`/],
      [edge('protocol/model.ts', '../client/git.ts', 'protocol', 'client', 'client/git.ts'), /protocol\/ imports no implementation/],
      [edge('client/http-client.ts', '../coordinator/engine.ts', 'client', 'coordinator', 'coordinator/engine.ts'), /never import each other/],
      [edge('coordinator/seed.ts', '../client/prompt.ts', 'coordinator', 'client', 'client/prompt.ts'), /never import each other/],
      [edge('media/dashboard/api.ts', '../../client/http-client.ts', 'dashboard', 'client', 'client/http-client.ts'), /imports only protocol\//],
      [edge('media/dashboard/api.ts', 'node:fs', 'dashboard', 'node'), /imports only protocol\//],
      [edge('coordinator/http.ts', '../media/dashboard/model.ts', 'coordinator', 'dashboard', 'media/dashboard/model.ts'), /only its page shell/],
      [edge('client/prompt.ts', '../extension/constants.ts', 'client', 'extension', 'extension/constants.ts'), /layers point down/],
      [edge('extension/settings.ts', '../cli/args.ts', 'extension', 'cli', 'cli/args.ts'), /layers point down/],
      [edge('cli/demo/beats.ts', '../../test/helpers/files.ts', 'cli', 'test', 'test/helpers/files.ts'), /never imports tooling/],
      [edge('extension/logic/submit-steps.ts', 'vscode', 'extension', 'vscode', undefined, true), /logic without VS Code/],
      [edge('extension/logic/submit-steps.ts', '../settings.ts', 'extension', 'extension', 'extension/settings.ts'), /logic without VS Code/],
    ];
    for (const [e, why] of bad) {
      const found = layerViolations([e]);
      assert.equal(found.length, 1, `${e.file} → ${e.specifier} is not caught`);
      assert.match(found[0]!, why);
    }
    // And what is allowed stays allowed.
    const fine = [
      edge('extension/logic/dashboard-html.ts', '../../media/dashboard/shell.ts', 'extension', 'dashboard', 'media/dashboard/shell.ts'),
      edge('media/dashboard/charts.ts', 'uplot', 'dashboard', 'npm'),
      edge('cli/commands/coordinator.ts', '../../coordinator/server.ts', 'cli', 'coordinator', 'coordinator/server.ts'),
      edge('test/unit/x.test.ts', '../../cli/main.ts', 'test', 'cli', 'cli/main.ts'),
      edge('test/unit/x.test.ts', 'vscode', 'test', 'vscode', undefined, true),
      edge('extension/logic/view-models.ts', '../constants.ts', 'extension', 'extension', 'extension/constants.ts'),
    ];
    assert.deepEqual(layerViolations(fine), []);
  });

  test('the diagram check catches an arrow that is drawn but not in the code, and one in the code but not drawn', () => {
    const doc = '```mermaid\nflowchart TD\n  cli --> client\n  client --> protocol\n```\n';
    assert.deepEqual(drawnArrows(doc), ['cli --> client', 'client --> protocol']);
    const code = partArrows([edge('client/a.ts', '../protocol/b.ts', 'client', 'protocol', 'protocol/b.ts'), edge('cli/a.ts', '../coordinator/b.ts', 'cli', 'coordinator', 'coordinator/b.ts')]);
    assert.deepEqual(code, ['cli --> coordinator', 'client --> protocol']);
    assert.deepEqual(drawnArrows(doc).filter((a) => !code.includes(a)), ['cli --> client']);
    assert.deepEqual(code.filter((a) => !drawnArrows(doc).includes(a)), ['cli --> coordinator']);
  });
});
