/**
 * A coordinator on its embedded store starts without the code it does not use: the CLI bundle is
 * split (esbuild.mjs) and the cluster (pg, socket.io's PostgreSQL adapter, the relay's client), the
 * GitHub sync (Octokit, Bottleneck) and the demo (its GitHub-shaped server, GraphQL) are imported
 * where used, so `owp coordinator` does not parse them at every start (bench/README.md, "Restart").
 * The bundle is built fresh, started with a module hook that logs every module it loads, and each
 * loaded chunk is mapped back to its sources through its source map.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/coordinator.ts';
import { ROOT } from '../helpers/owp-cli.ts';

/** Sources a lowdb coordinator must not load (by their path in the source maps). */
const NOT_ON_A_LOWDB_START = [
  'node_modules/pg/',
  'node_modules/pg-pool/',
  'node_modules/@socket.io/postgres-adapter/',
  'node_modules/socket.io-client/',
  'node_modules/@octokit/',
  'node_modules/bottleneck/',
  'node_modules/graphql/',
  'coordinator/cluster/node.ts',
  'coordinator/store/postgres.ts',
  'coordinator/github/integration.ts',
  'cli/demo/',
];

const HOOKS = pathToFileURL(join(ROOT, 'test', 'helpers', 'module-log-hooks.mjs')).href;
const REGISTER = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`;

let work: string;

/**
 * Runs the bundle's `owp coordinator` with the module hook until it listens (or exits), and answers
 * the sources of every chunk it loaded (the bundle's own files, read back through their source maps).
 */
async function loadedSources(args: string[]): Promise<{ sources: Set<string>; listening: boolean; output: string }> {
  const log = join(work, `modules-${Math.random().toString(36).slice(2)}.log`);
  const child = spawn(process.execPath, ['--import', REGISTER, join(work, 'dist', 'cli.mjs'), 'coordinator', ...args], {
    env: { ...process.env, OWP_MODULE_LOG: log, OWP_ADMIN_TOKEN: 'owpm_start-modules-test-token-0000000000000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const listening = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', () => {
      if (/listening on http/.test(output)) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  if (listening) {
    const url = /listening on (http\S+)/.exec(output)?.[1] as string;
    assert.equal((await fetch(`${url}/readyz`)).status, 200, 'it serves');
  }
  child.kill('SIGKILL');
  await exited;
  const sources = new Set<string>();
  const dist = join(work, 'dist');
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    if (!url.startsWith('file:')) continue;
    const file = fileURLToPath(url);
    if (!file.startsWith(dist) || !existsSync(`${file}.map`)) continue;
    for (const source of (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources) sources.add(source);
  }
  return { sources, listening, output };
}

describe('what a coordinator loads at start', () => {
  before(() => {
    work = tempDir('owp-start-modules-');
    // The development build (source maps on), as `npm run build` makes it, in its own folder.
    const built = spawnSync(process.execPath, ['esbuild.mjs', `--outdir=${join(work, 'dist')}`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('on lowdb it loads neither the cluster, the GitHub sync nor the demo', async () => {
    const { sources, listening, output } = await loadedSources(['--port', '0', '--data-dir', join(work, 'data')]);
    assert.ok(listening, output);
    // The hook and the maps see what did load: the store, socket.io, the engine.
    for (const needed of ['coordinator/store/lowdb.ts', 'node_modules/socket.io/', 'coordinator/engine/engine.ts']) {
      assert.ok([...sources].some((s) => s.includes(needed)), `${needed} is among the loaded sources`);
    }
    const loaded = [...sources].filter((s) => NOT_ON_A_LOWDB_START.some((p) => s.includes(p)));
    assert.deepEqual(loaded, [], 'a lowdb start loaded cluster, GitHub or demo code');
  });

  test('as a cluster node it loads pg and the adapter (the same hook sees code loaded on demand)', async () => {
    // Port 1 refuses at once: the node fails to connect, after loading what a cluster node needs.
    const { sources, listening } = await loadedSources(['--port', '0', '--data-dir', join(work, 'data-pg'), '--store', 'postgres', '--database-url', 'postgres://owp:owp@127.0.0.1:1/owp']);
    assert.equal(listening, false);
    for (const needed of ['node_modules/pg/', 'node_modules/@socket.io/postgres-adapter/', 'coordinator/cluster/node.ts']) {
      assert.ok([...sources].some((s) => s.includes(needed)), `${needed} is loaded by a cluster node`);
    }
  });
});
