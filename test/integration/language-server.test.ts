/**
 * The contract/policy language server over its real protocol: a child process speaking LSP on
 * stdio, driven by vscode-languageserver's client-side protocol connection. Runs against the
 * TypeScript source and against the esbuild bundle the extension ships (dist/lsp-server.cjs).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import {
  CompletionRequest, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification, ExitNotification, HoverRequest,
  InitializeRequest, InitializedNotification, PublishDiagnosticsNotification, ShutdownRequest, StreamMessageReader,
  StreamMessageWriter, createProtocolConnection,
  type CompletionItem, type CompletionList, type Hover, type MarkupContent, type ProtocolConnection, type PublishDiagnosticsParams,
} from 'vscode-languageserver/node';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/coordinator.ts';
import { folderWith } from '../helpers/files.ts';

interface Server {
  connection: ProtocolConnection;
  child: ChildProcess;
  /** The next diagnostics published for a URI (at or after the given document version). */
  diagnostics(uri: string, version: number): Promise<PublishDiagnosticsParams>;
}

async function startServer(command: string[]): Promise<Server> {
  const child = spawn(process.execPath, [...command, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout as NodeJS.ReadableStream), new StreamMessageWriter(child.stdin as NodeJS.WritableStream));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: Array<() => void> = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.push(params);
    for (const wake of waiters.splice(0)) wake();
  });
  connection.listen();
  const init = await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
  assert.equal(init.capabilities.hoverProvider, true);
  assert.ok(init.capabilities.completionProvider);
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    connection,
    child,
    async diagnostics(uri, version) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = published.find((p) => p.uri === uri && (p.version ?? 0) >= version);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} v${version}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

async function stopServer(server: Server): Promise<void> {
  await server.connection.sendRequest(ShutdownRequest.type);
  await server.connection.sendNotification(ExitNotification.type);
  await new Promise<void>((resolve) => {
    if (server.child.exitCode !== null) resolve();
    else server.child.once('exit', () => resolve());
  });
  server.connection.dispose();
}

function messageOf(message: string | MarkupContent | undefined): string {
  return typeof message === 'string' ? message : (message?.value ?? '');
}

function items(result: CompletionItem[] | CompletionList | null): string[] {
  const list = Array.isArray(result) ? result : (result?.items ?? []);
  return list.map((i) => i.label);
}

const bundleDir = tempDir('owp-lsp-bundle-');
const targets: Array<{ name: string; command: () => string[] }> = [
  { name: 'source (tsx)', command: () => ['--import', 'tsx', 'lsp/server.ts'] },
  { name: 'bundle (dist/lsp-server.cjs)', command: () => [join(bundleDir, 'lsp-server.cjs')] },
];

before(async () => {
  // The same options as esbuild.mjs's entry, into a temp folder so the test does not touch dist/.
  await esbuild.build({ entryPoints: ['lsp/server.ts'], outfile: join(bundleDir, 'lsp-server.cjs'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
});
after(() => rmSync(bundleDir, { recursive: true, force: true }));

for (const target of targets) {
  describe(`language server: ${target.name}`, () => {
    test('diagnostics as you type, with positions and hints, cleared once fixed', async () => {
      const server = await startServer(target.command());
      try {
        const uri = 'file:///work/repo/.owp.yml';
        const text = 'setup: npm ci\ntest: npm test\nlnt: npm run lint\ngates: [tests, lintt]\n';
        await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'owp-contract', version: 1, text } });
        const first = await server.diagnostics(uri, 1);
        assert.equal(first.diagnostics.length, 2, JSON.stringify(first.diagnostics));
        const [unknown, gate] = [...first.diagnostics].sort((a, b) => a.range.start.line - b.range.start.line);
        assert.deepEqual(unknown?.range, { start: { line: 2, character: 0 }, end: { line: 2, character: 3 } });
        assert.match(messageOf(unknown?.message), /Unknown key "lnt"[\s\S]*Hint: Did you mean "lint"\?/);
        assert.equal(unknown?.severity, 1);
        assert.deepEqual(gate?.range.start, { line: 3, character: 15 });
        assert.match(messageOf(gate?.message), /must be one of setup, tests, lint, checklist/);

        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
          textDocument: { uri, version: 2 },
          contentChanges: [{ text: 'setup: npm ci\ntest: npm test\nlint: npm run lint\ngates: [tests, lint]\n' }],
        });
        const fixed = await server.diagnostics(uri, 2);
        assert.deepEqual(fixed.diagnostics, []);

        await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
          textDocument: { uri, version: 3 },
          contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: 'areas:\n\tdocs: [x]\n' }],
        });
        const broken = await server.diagnostics(uri, 3);
        assert.ok(broken.diagnostics.some((d) => d.range.start.line === 4 && /[Tt]ab/.test(messageOf(d.message))), JSON.stringify(broken.diagnostics));
      } finally {
        await stopServer(server);
      }
    });

    test('policy files get their own schema, found by path as well as by language id', async () => {
      const server = await startServer(target.command());
      try {
        const uri = 'file:///work/repo/.owp/policy.yml';
        await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
          textDocument: { uri, languageId: 'yaml', version: 1, text: 'safe_lanes:\n  below_trust: 7\nareas:\n  core: { risky: true }\n' },
        });
        const { diagnostics } = await server.diagnostics(uri, 1);
        const trust = diagnostics.find((d) => d.severity === 1);
        assert.deepEqual(trust?.range.start, { line: 1, character: 15 });
        assert.match(messageOf(trust?.message), /must be at most 3, not 7/);
      } finally {
        await stopServer(server);
      }
    });

    test('completion of keys and values, and hover docs from the schema', async () => {
      const server = await startServer(target.command());
      try {
        const contract = 'file:///work/repo/.owp.yml';
        const text = 'test: npm test\npr:\n  dr\ngates: [tests, \nareas:\n  docs: ["docs/**"]\n  core: ["src/**"]\nsafe_lanes:\n  - \n';
        await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: contract, languageId: 'owp-contract', version: 1, text } });
        const topKeys = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: contract }, position: { line: 9, character: 0 } }));
        assert.deepEqual([...topKeys].sort(), ['branch', 'ci', 'lint', 'setup', 'version'], 'keys already written are not offered again');
        const prKeys = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: contract }, position: { line: 2, character: 4 } }));
        assert.deepEqual([...prKeys].sort(), ['body', 'checklist', 'draft', 'title']);
        const gates = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: contract }, position: { line: 3, character: 15 } }));
        assert.deepEqual([...gates].sort(), ['checklist', 'lint', 'setup', 'tests']);
        const lanes = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: contract }, position: { line: 8, character: 4 } }));
        assert.deepEqual(lanes, ['docs', 'core'], 'safe lanes complete to the areas the file defines');

        const policy = 'file:///work/repo/.owp/policy.yml';
        const policyText = 'areas:\n  core:\n    risky: \ntiers:\n  - from_tier: 2\n    \n';
        await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: policy, languageId: 'owp-policy', version: 1, text: policyText } });
        const risky = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: policy }, position: { line: 2, character: 11 } }));
        assert.deepEqual(risky, ['true', 'false']);
        const tierKeys = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: policy }, position: { line: 5, character: 4 } }));
        assert.deepEqual(tierKeys, ['min_trust']);

        // Area names in a policy come from the contract next to it: as open in the editor…
        const openPolicy = 'file:///work/repo/.owp/policy.yaml';
        await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: openPolicy, languageId: 'owp-policy', version: 1, text: 'safe_lanes:\n  below_trust: 1\n  lanes: [\n' } });
        const fromOpen = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: openPolicy }, position: { line: 2, character: 10 } }));
        assert.deepEqual(fromOpen, ['docs', 'core']);
        // …or on disk when it is not open.
        const repo = folderWith({ '.owp.yml': 'test: t\nareas:\n  web: [web/**]\n  api: [api/**]\n' });
        try {
          const diskPolicy = pathToFileURL(join(repo, '.owp', 'policy.yml')).href;
          await server.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: diskPolicy, languageId: 'owp-policy', version: 1, text: 'areas:\n  web:\n    max_active: 1\n  \n' } });
          const areaKeys = items(await server.connection.sendRequest(CompletionRequest.type, { textDocument: { uri: diskPolicy }, position: { line: 3, character: 2 } }));
          assert.deepEqual(areaKeys, ['api'], 'areas already limited are not offered again');
        } finally {
          rmSync(repo, { recursive: true, force: true });
        }

        const hover = (await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri: policy }, position: { line: 2, character: 6 } })) as Hover | null;
        assert.match((hover?.contents as MarkupContent | undefined)?.value ?? '', /\*\*risky\*\*[\s\S]*Rule risky_area: Risky areas are denied by default/);
        const gateHover = (await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri: contract }, position: { line: 3, character: 2 } })) as Hover | null;
        assert.match((gateHover?.contents as MarkupContent | undefined)?.value ?? '', /Gates a PR needs before it counts as opened/);
        const nothing = await server.connection.sendRequest(HoverRequest.type, { textDocument: { uri: contract }, position: { line: 9, character: 0 } });
        assert.equal(nothing, null);
      } finally {
        await stopServer(server);
      }
    });
  });
}
