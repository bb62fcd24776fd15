/**
 * The coordinator as the volunteers' editors meet it: `owp coordinator` in its own process (the
 * built dist/cli.mjs) on a fresh lowdb data directory, so a restart is a real process restart that
 * recovers from disk. The test talks to it as a maintainer over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { REPO_ROOT } from './harness.ts';

const CLI = join(REPO_ROOT, 'bin', 'owp.mjs');

export class CoordinatorProcess {
  readonly dataDir: string;
  url = '';
  port = 0;
  adminToken = '';
  admin!: HttpClient;
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  static async start(dataDir: string): Promise<CoordinatorProcess> {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli.mjs'))) throw new Error('dist/cli.mjs is missing: run `npm run build` first (npm run test:e2e does).');
    const coordinator = new CoordinatorProcess(dataDir);
    await coordinator.launch(0);
    return coordinator;
  }

  /** Everything the process printed, across restarts. */
  log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM: pending writes finish and a snapshot is taken, as an operator's restart does. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the process and starts a new one on the same port and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch(this.port);
  }

  private async launch(port: number): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'coordinator', '--port', String(port), '--host', '127.0.0.1', '--data-dir', this.dataDir], {
      cwd: REPO_ROOT,
      // The admin token must come from the data directory, never from the developer's shell.
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'OWP_ADMIN_TOKEN')),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const started = this.output.length;
    const onData = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const match = /OWP coordinator listening on (http:\/\/[^\s]+)/.exec(this.output.slice(started));
      if (match) {
        this.url = (match[1] as string).replace(/\/$/, '');
        this.port = Number(new URL(this.url).port);
        break;
      }
      if (!this.running) throw new Error(`The coordinator exited before listening:\n${this.output.slice(started)}`);
      if (Date.now() > deadline) throw new Error(`The coordinator did not listen within 30 s:\n${this.output.slice(started)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.adminToken = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
    this.admin = new HttpClient({ baseUrl: this.url, token: this.adminToken });
  }
}
