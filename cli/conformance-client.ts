/**
 * `owp conformance --client`: the client mode of the kit (conformance/client/). Without --url it
 * runs the reference coordinator in this process (memory store) behind the kit's relay. With
 * --client-cmd it starts the worker under test itself, with `{url}`, `{repo}` and `{dir}` replaced
 * by the relay's URL, the repo the kit made and a git clone of that repo (its origin a local bare
 * repository named like it, as `owp worker` expects); otherwise it prints where a person should
 * point their worker and waits for it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator } from '../coordinator/app.ts';
import { newToken } from '../coordinator/auth.ts';
import { SystemClock } from '../coordinator/clock.ts';
import { silentLogger } from '../coordinator/log.ts';
import { MemoryStore } from '../coordinator/store/memory.ts';
import { runClientSuite, ClientSetupError } from '../conformance/client/run.ts';
import type { SuiteReport, TestResult } from '../conformance/types.ts';

export interface ClientModeOptions {
  url?: string;
  token?: string;
  clientCmd?: string;
  connectTimeoutMs?: number;
  onResult?: (result: TestResult) => void;
  /** Where the started client's output goes (default: dropped unless it fails to start). */
  log?: (chunk: string) => void;
}

export async function runClientMode(options: ClientModeOptions): Promise<SuiteReport> {
  let url = options.url;
  let token = options.token;
  let stopCoordinator: (() => Promise<void>) | undefined;
  if (!url) {
    token = newToken('maintainer');
    const coordinator = await createCoordinator({ store: new MemoryStore(), clock: new SystemClock(), adminTokens: [token], sweepIntervalMs: 100, log: silentLogger() });
    url = await coordinator.listen(0, '127.0.0.1');
    stopCoordinator = () => coordinator.close();
  }
  if (!token) throw new ClientSetupError('--token is required with --url: the coordinator\'s admin token (the kit creates a repo and tasks).');
  const work = mkdtempSync(join(tmpdir(), 'owp-conformance-client-'));
  let child: ChildProcess | undefined;
  try {
    return await runClientSuite({
      url,
      token,
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.onResult ? { onResult: options.onResult } : {}),
      start: (relayUrl, repo) => {
        if (!options.clientCmd) {
          console.log(`Conformance coordinator for worker clients: ${relayUrl}\n  Register and connect your worker there (POST ${relayUrl}/v1/workers, socket.io at ${relayUrl}),\n  declare the repo ${repo} (profile.repos) or run it in a clone of ${repo}, and let it accept offers automatically.\n  Waiting for its hello…`);
          return;
        }
        const dir = cloneOf(work, repo);
        const command = options.clientCmd.replaceAll('{url}', relayUrl).replaceAll('{repo}', repo).replaceAll('{dir}', dir);
        child = spawn(command, { shell: true, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.on('data', (c: Buffer) => options.log?.(c.toString()));
        child.stderr?.on('data', (c: Buffer) => options.log?.(c.toString()));
      },
    });
  } finally {
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    await stopCoordinator?.();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A clone of `owner/name` whose origin is a local bare repository at …/owner/name.git with one commit on main. */
function cloneOf(work: string, repo: string): string {
  const git = (cwd: string, args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=OWP conformance', '-c', 'user.email=conformance@owp.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });
  };
  const bare = join(work, 'remotes', `${repo}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, ['init', '--quiet', '--bare']);
  const seed = join(work, 'seed');
  mkdirSync(seed);
  git(seed, ['init', '--quiet']);
  writeFileSync(join(seed, 'README.md'), `# ${repo}\n\nA repository the OWP conformance kit made for the worker under test.\n`);
  git(seed, ['add', 'README.md']);
  git(seed, ['commit', '--quiet', '-m', 'conformance seed']);
  git(seed, ['push', '--quiet', bare, 'HEAD:main']);
  const dir = join(work, 'clone');
  git(work, ['clone', '--quiet', bare, dir]);
  return dir;
}
