/**
 * A throwaway PostgreSQL for tests: a fresh cluster made with initdb in a temp folder, started on a
 * free loopback port with PostgreSQL's durability defaults (fsync and synchronous_commit on), and
 * stopped and removed afterwards. As root it runs as the `postgres` user (PostgreSQL refuses root).
 * `npm test` installs the server first when a test file imports this helper
 * (scripts/ensure-postgres.sh, called by scripts/run-tests.mjs); the same script is run here too,
 * so a single file run with `node --test` works on a fresh machine as well.
 *
 * A watcher process stops the server and removes the folder when the test process is gone, even
 * after a SIGKILL, so no PostgreSQL outlives the tests that started it.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** A fresh, empty database in this server (one per test keeps tests apart); returns its URL. */
  database(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let ensured = false;

function ensureInstalled(): void {
  if (ensured) return;
  const script = resolve(import.meta.dirname, '../../scripts/ensure-postgres.sh');
  const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('PostgreSQL is not installed and could not be installed (see scripts/ensure-postgres.sh above).');
  ensured = true;
}

export function postgresBin(): string {
  const given = process.env.OWP_POSTGRES_BIN;
  if (given && existsSync(join(given, 'postgres'))) return given;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new Error('No PostgreSQL server under /usr/lib/postgresql; run scripts/ensure-postgres.sh.');
  return join(base, versions[0], 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
  if (!uid) throw new Error('Running as root, but there is no `postgres` user to run PostgreSQL as (Debian\'s package creates it).');
  return { uid, gid };
}

let databases = 0;

/** Starts a throwaway PostgreSQL; `settings` become `-c name=value` flags (defaults otherwise). */
export async function startPostgres(settings: Record<string, string | number> = {}): Promise<TestPostgres> {
  ensureInstalled();
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'owp-pg-'));
  const ids = postgresIds();
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  // --no-sync only skips initdb's own fsyncs of the empty template; the server runs with fsync on.
  await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], { cwd: dir, timeout: 120_000, ...(ids ?? {}) });
  const port = await freePort();
  const flags = Object.entries({ listen_addresses: '127.0.0.1', max_connections: 200, ...settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const child: ChildProcess = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, ...flags], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...(ids ?? {}) });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  // Stops the server and removes the folder once this process is gone, however it ended.
  const watcher = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -INT ${child.pid} 2>/dev/null; sleep 3; kill -KILL ${child.pid} 2>/dev/null; rm -rf '${dir}'`], { detached: true, stdio: 'ignore' });
  watcher.unref();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}:\n${log}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections on ${port} within 60 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    async database(name = `owp_test_${process.pid}_${(databases += 1)}`) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGINT'); // PostgreSQL's fast shutdown
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
        watcher.kill();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
