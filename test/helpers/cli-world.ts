/**
 * What the CLI integration tests share: the real `owp` in a child process (the bundle or the
 * source, see owp-cli.ts), and a world to run it in: a coordinator, a temp folder, and the
 * environment a maintainer's shell would have (OWP_COORDINATOR_URL, OWP_TOKEN = the admin token).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startPool, tempDir, type StoreKind, type TestPool } from './coordinator.ts';
import { owpArgv, ROOT } from './owp-cli.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOwpOptions {
  /** Default: the checkout's root. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  /** A run that takes longer is killed and fails the test (default 30 s). */
  timeoutMs?: number;
}

/** Runs `owp args…` and resolves with its exit code and output; rejects when it does not finish in time. */
export function runOwp(args: readonly string[], options: RunOwpOptions = {}): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...owpArgv(), ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`owp ${args.join(' ')} did not finish:\n${stdout}${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

export interface CliWorld {
  pool: TestPool;
  /** A temp folder of this world's own, removed by close(). */
  dir: string;
  /** The coordinator's URL and the admin token, as OWP_COORDINATOR_URL and OWP_TOKEN. */
  env: Record<string, string>;
  /** `owp args…` with the world's environment (plus `options.env`), in `dir` unless told otherwise. */
  owp(args: readonly string[], options?: RunOwpOptions): Promise<CliRun>;
  close(): Promise<void>;
}

export async function cliWorld(options: { store?: StoreKind; prefix?: string } = {}): Promise<CliWorld> {
  const pool = await startPool(options.store ?? 'memory');
  const dir = tempDir(options.prefix ?? 'owp-cli-');
  const env = { OWP_COORDINATOR_URL: pool.url, OWP_TOKEN: pool.adminToken };
  return {
    pool,
    dir,
    env,
    owp: (args, run = {}) => runOwp(args, { ...run, cwd: run.cwd ?? dir, env: { ...env, ...run.env } }),
    async close() {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
