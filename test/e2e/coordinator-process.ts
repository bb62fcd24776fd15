/**
 * The coordinator as the volunteers' editors meet it: `owp coordinator` in its own process (the
 * built dist/cli.mjs) on a fresh lowdb data directory, so a restart is a real process restart that
 * recovers from disk. The test talks to it as a maintainer over HTTP.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { REPO_ROOT } from './harness.ts';
import { ServerProcess } from './server-process.ts';

const CLI = join(REPO_ROOT, 'bin', 'owp.mjs');

export interface CoordinatorLaunch {
  /** `--config FILE` (the GitHub integration's section, for one). */
  configFile?: string;
  /** Variables the config names for its secrets (`token_env`, `webhook_secret_env`). */
  env?: Record<string, string>;
}

export class CoordinatorProcess {
  readonly dataDir: string;
  url = '';
  port = 0;
  adminToken = '';
  admin!: HttpClient;
  private process: ServerProcess | undefined;
  private earlierOutput = '';

  private constructor(
    dataDir: string,
    private readonly extra: CoordinatorLaunch,
  ) {
    this.dataDir = dataDir;
  }

  static async start(dataDir: string, extra: CoordinatorLaunch = {}): Promise<CoordinatorProcess> {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli.mjs'))) throw new Error('dist/cli.mjs is missing: run `npm run build` first (npm run test:e2e does).');
    const coordinator = new CoordinatorProcess(dataDir, extra);
    await coordinator.launch(0);
    return coordinator;
  }

  /** Everything the process printed, across restarts. */
  log(): string {
    return this.earlierOutput + (this.process?.output() ?? '');
  }

  /** SIGTERM: pending writes finish and a snapshot is taken, as an operator's restart does. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process?.stop(signal, 10_000);
  }

  /** Stops the process and starts a new one on the same port and data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch(this.port);
  }

  private async launch(port: number): Promise<void> {
    this.earlierOutput += this.process?.output() ?? '';
    const config = this.extra.configFile ? ['--config', this.extra.configFile] : [];
    this.process = new ServerProcess('the coordinator', process.execPath, [CLI, 'coordinator', '--port', String(port), '--host', '127.0.0.1', '--data-dir', this.dataDir, ...config], {
      cwd: REPO_ROOT,
      // The admin token must come from the data directory, never from the developer's shell.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'OWP_ADMIN_TOKEN')), ...this.extra.env },
    });
    const match = await this.process.waitForOutput(/OWP coordinator listening on (http:\/\/\S+)/, 30_000);
    this.url = (match[1] as string).replace(/\/$/, '');
    this.port = Number(new URL(this.url).port);
    this.adminToken = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
    this.admin = new HttpClient({ baseUrl: this.url, token: this.adminToken });
  }
}
