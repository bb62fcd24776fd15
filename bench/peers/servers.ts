/**
 * The peers' servers, started by the benchmark on loopback ports in temp folders and stopped
 * afterwards: Debian's redis-server, and PostgreSQL on a cluster made with initdb (as the
 * `postgres` user when we are root, since PostgreSQL refuses to run as root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { track } from '../lib/children.ts';
import { sleep } from '../lib/stats.ts';

export interface Server {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
}

function stopper(child: ChildProcess, signal: NodeJS.Signals): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Installs Debian's redis-server and postgresql when missing (needs root and the Debian archive). Returns what is still missing. */
export function ensureDebianPackages(log: (line: string) => void): string[] {
  const wanted: string[] = [];
  if (!onPath('redis-server')) wanted.push('redis-server');
  if (!postgresBinDir()) wanted.push('postgresql');
  if (wanted.length === 0) return [];
  if (process.getuid?.() !== 0) return wanted.map((p) => `${p} (not installed, and installing it needs root)`);
  log(`peers: apt-get install ${wanted.join(' ')}`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...wanted], { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    return wanted.map((p) => `${p} (apt-get failed: ${(error as Error).message.split('\n')[0]})`);
  }
  const still: string[] = [];
  if (!onPath('redis-server')) still.push('redis-server (not found after apt-get)');
  if (!postgresBinDir()) still.push('postgresql (not found after apt-get)');
  return still;
}

/** Redis with its stock defaults (RDB snapshots, no AOF: writes are acknowledged before any fsync), or with `appendfsync always`. */
export async function startRedis(dir: string, options: { fsyncAlways: boolean }): Promise<Server> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning'];
  if (options.fsyncAlways) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  track(child);
  await waitForPort(port, 15_000, child, 'redis-server');
  return { port, process: child, stop: stopper(child, 'SIGTERM') };
}

/** PostgreSQL with its defaults (fsync on, synchronous_commit on) on a fresh cluster in `dir`. */
export async function startPostgres(dir: string): Promise<Server & { connectionString: string }> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const asPostgres = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asPostgres) {
    ids = {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
    chownSync(dir, ids.uid, ids.gid);
  }
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], { stdio: 'ignore', timeout: 120_000, cwd: dir, ...(ids ?? {}) });
  const port = await freePort();
  // Only the connection limit differs from the defaults: the benchmark opens one pool per worker process.
  const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=400'], { stdio: 'ignore', cwd: dir, ...(ids ?? {}) });
  track(child);
  await waitForPort(port, 60_000, child, 'postgres');
  await sleep(300);
  // SIGINT is PostgreSQL's "fast shutdown".
  return { port, process: child, stop: stopper(child, 'SIGINT'), connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` };
}
