/**
 * Everything one e2e suite runs against, all real and all local: the coordinator process on a
 * fresh data directory with a seeded repo and tasks, the repo's bare git remote, a GitHub-shaped
 * server for PR creation, one browser, and one editor window per volunteer (each its own
 * code-server, with its own clone, settings and worker identity).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { Task } from '../../protocol/model.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Params } from '../../protocol/operations.ts';
import { startFakeGitHub, type FakeGitHub } from '../../cli/demo/github/server.ts';
import { CoordinatorProcess } from './coordinator-process.ts';
import { ARTIFACTS_DIR, EditorServer, REPO_ROOT, launchBrowser } from './harness.ts';
import { cloneFor, createSeededRemote, TEST_RUNS_ENV } from './seeded-repo.ts';
import { Workbench } from './workbench.ts';
import { startGitHttp, type GitHttpServer } from '../helpers/git-http.ts';

export const REPO = 'acme/site';

export interface Volunteer {
  /** The window's name in artifacts. */
  name: string;
  login: string;
  skills: string[];
  capacity: number;
  /** The personal GitHub token the volunteer saves in the extension (the fake server knows it). */
  githubToken: string;
  /** A collaborator who may push to the repo (default); false: a volunteer who submits from a fork. */
  pushAccess?: boolean;
}

export interface VolunteerWindow {
  volunteer: Volunteer;
  checkout: string;
  editor: EditorServer;
  workbench: Workbench;
}

export interface WorldOptions {
  /** Artifacts go to .artifacts/e2e/<suite>/. */
  suite: string;
  repoSettings: Omit<Params<'repo.configure'>, 'repo' | 'idempotency_key'>;
  tasks: Array<Omit<Params<'task.create'>, 'repo' | 'idempotency_key'>>;
  volunteers: Volunteer[];
  /**
   * Serve the repo like github.com for forks: the GitHub-shaped server backs it with the bare
   * remote and serves every repo (forks too) over smart HTTP, where `clone_url`s point.
   */
  forks?: boolean;
  /**
   * Connect the coordinator to the GitHub-shaped server as a maintainer would (`github:` in its
   * config, token route, signed webhooks and polling): it verifies PRs and reads their CI checks
   * from GitHub itself. Its required checks come from the contract on main (`ci.checks`).
   */
  githubIntegration?: boolean;
  /** The contract's `ci.checks` (read from GitHub in `githubIntegration` worlds). */
  ciChecks?: string[];
}

/** The coordinator's own GitHub identity (a bot account with write access) in `githubIntegration` worlds. */
export const COORDINATOR_GITHUB = { login: 'acme-owp', token: 'ghp_acmeOwpCoordinatorE2e000000000000001', webhookSecret: 'e2e-webhook-secret-acme-site' };

/** The packaged extension: OWP_E2E_VSIX, else the newest owp-*.vsix at the repo root (npm run package). */
export function packagedExtension(): string {
  if (process.env.OWP_E2E_VSIX) return process.env.OWP_E2E_VSIX;
  const found = readdirSync(REPO_ROOT).filter((name) => /^owp-.*\.vsix$/.test(name)).sort();
  const newest = found.at(-1);
  if (!newest) throw new Error('No owp-*.vsix at the repo root: run `npm run package` first (npm run test:e2e does).');
  return join(REPO_ROOT, newest);
}

export class PoolWorld {
  readonly root: string;
  readonly suite: string;
  readonly coordinator: CoordinatorProcess;
  readonly github: FakeGitHub;
  /** Git over HTTP for the repo and its forks (`forks` worlds only). */
  readonly gitHttp: GitHttpServer | undefined;
  readonly remote: string;
  readonly browser: Browser;
  readonly testRunsFile: string;
  /** Seeded task ids by title. */
  readonly taskIds = new Map<string, string>();
  readonly windows = new Map<string, VolunteerWindow>();
  private readonly volunteers: Map<string, Volunteer>;

  private constructor(init: { root: string; suite: string; coordinator: CoordinatorProcess; github: FakeGitHub; gitHttp: GitHttpServer | undefined; remote: string; browser: Browser; volunteers: Volunteer[] }) {
    this.root = init.root;
    this.suite = init.suite;
    this.coordinator = init.coordinator;
    this.github = init.github;
    this.gitHttp = init.gitHttp;
    this.remote = init.remote;
    this.browser = init.browser;
    this.testRunsFile = join(init.root, 'test-runs.jsonl');
    this.volunteers = new Map(init.volunteers.map((v) => [v.name, v]));
  }

  static async start(options: WorldOptions): Promise<PoolWorld> {
    const root = mkdtempSync(join(tmpdir(), `owp-e2e-${options.suite}-`));
    rmSync(join(ARTIFACTS_DIR, options.suite), { recursive: true, force: true });
    // What started before a failure is stopped again, so a failed start leaves no servers behind.
    const started: Array<() => Promise<unknown>> = [];
    try {
      const remote = await createSeededRemote(root, REPO, options.ciChecks ? { ciChecks: options.ciChecks } : {});
      const tokens = options.volunteers.map((v) => ({ token: v.githubToken, login: v.login }));
      const collaborators = options.volunteers.filter((v) => v.pushAccess !== false).map((v) => v.login);
      if (options.githubIntegration) {
        tokens.push({ token: COORDINATOR_GITHUB.token, login: COORDINATOR_GITHUB.login });
        collaborators.push(COORDINATOR_GITHUB.login);
      }
      let github: FakeGitHub | undefined;
      const gitHttp = options.forks
        ? await startGitHttp({
            tokens: new Map(tokens.map((t) => [t.token, t.login])),
            resolve: (owner, name) => {
              const repo = github?.state.findRepo(`${owner}/${name}`);
              return repo && !repo.pending ? repo.git : undefined;
            },
            canPush: (login, owner) => login.toLowerCase() === owner.toLowerCase(),
          })
        : undefined;
      if (gitHttp) started.push(() => gitHttp.close());
      github = await startFakeGitHub({
        tokens,
        repos: [{ full_name: REPO, default_branch: 'main', collaborators, ...(gitHttp ? { git: remote } : {}) }],
        branches: 'any',
        ...(gitHttp ? { htmlBaseUrl: gitHttp.url } : {}),
      });
      const fake = github;
      started.push(() => fake.close());
      const coordinator = await CoordinatorProcess.start(join(root, 'coordinator-data'), options.githubIntegration ? connectGitHub(root, fake.url, fake.htmlUrl) : {});
      started.push(() => coordinator.stop());
      // GitHub delivers to the webhook a maintainer set up, at the coordinator's public URL.
      if (options.githubIntegration) fake.state.webhooks.hook = { url: `${coordinator.url}/webhooks/github`, secret: COORDINATOR_GITHUB.webhookSecret };
      const browser = await launchBrowser();
      started.push(() => browser.close());
      const world = new PoolWorld({ root, suite: options.suite, coordinator, github: fake, gitHttp, remote, browser, volunteers: options.volunteers });
      await coordinator.admin.call('repo.configure', { repo: REPO, ...options.repoSettings });
      for (const task of options.tasks) {
        const { task: created } = await coordinator.admin.call('task.create', { repo: REPO, ...task });
        world.taskIds.set(task.title, created.id);
      }
      return world;
    } catch (error) {
      for (const stop of started.reverse()) await stop().catch(() => undefined);
      throw error;
    }
  }

  taskId(title: string): string {
    const id = this.taskIds.get(title);
    if (!id) throw new Error(`No seeded task titled ${title}`);
    return id;
  }

  /** Opens the volunteer's editor window on a fresh clone, with the packaged extension installed. */
  async openWindow(name: string): Promise<VolunteerWindow> {
    const volunteer = this.volunteers.get(name);
    if (!volunteer) throw new Error(`No volunteer named ${name}`);
    const checkout = await cloneFor(this.remote, join(this.root, 'volunteers', name, 'site'), volunteer);
    const editor = await EditorServer.start({
      name,
      workspace: checkout,
      parentDir: join(this.root, 'editors'),
      vsix: packagedExtension(),
      // Children of the extension see an allow-listed environment (client/child-env.ts): the seeded
      // test command's log file is passed the way a volunteer passes a variable, by OWP_PASS_ENV.
      env: { [TEST_RUNS_ENV]: this.testRunsFile, OWP_PASS_ENV: TEST_RUNS_ENV },
      settings: {
        'owp.coordinatorUrl': this.coordinator.url,
        'owp.githubLogin': volunteer.login,
        'owp.skills': volunteer.skills,
        'owp.capacity': volunteer.capacity,
        // VS Code's Chat view, where the test reads the prompt (a value the manifest's enum allows).
        'owp.aiTool': 'copilot',
        'owp.githubApiUrl': this.github.url,
      },
    });
    let workbench: Workbench;
    try {
      workbench = await Workbench.open(this.browser, editor, this.suite);
    } catch (error) {
      await editor.stop();
      throw error;
    }
    const window: VolunteerWindow = { volunteer, checkout, editor, workbench };
    this.windows.set(name, window);
    return window;
  }

  /** Closes the window's page and ends its editor: its extension host, and so its worker, stops. */
  async closeWindow(name: string): Promise<void> {
    const window = this.windows.get(name);
    if (!window) return;
    await window.workbench.close();
    await window.editor.stop('SIGKILL');
    this.windows.delete(name);
  }

  // ---- what the coordinator says ----

  async task(id: string): Promise<Task> {
    return (await this.coordinator.admin.call('task.get', { task_id: id })).task;
  }

  async journal(): Promise<JournalEvent[]> {
    const events: JournalEvent[] = [];
    let after = 0;
    for (;;) {
      const page = await this.coordinator.admin.call('journal.read', { after_seq: after, limit: 500 });
      events.push(...page.events);
      if (page.events.length === 0 || page.last_seq <= after) return events;
      after = page.last_seq;
    }
  }

  /** Task runs of the contract's test command, recorded by the command itself. */
  testRuns(): Array<{ cwd: string; at: number }> {
    if (!existsSync(this.testRunsFile)) return [];
    return readFileSync(this.testRunsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { cwd: string; at: number });
  }

  /** Saves the coordinator's log and journal beside the screenshots (always, for the record). */
  async saveRecords(): Promise<void> {
    const dir = join(ARTIFACTS_DIR, this.suite);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'coordinator.log'), this.coordinator.log());
    const journal = await this.journal().catch(() => []);
    writeFileSync(join(dir, 'journal.jsonl'), journal.map((e) => JSON.stringify(e)).join('\n'));
    writeFileSync(join(dir, 'github-requests.json'), JSON.stringify(this.github.state.requests.map(({ headers: _headers, ...r }) => r), null, 2));
  }

  /** Runs one scenario step; when it fails, every open window saves its screen and logs first. */
  async step<T>(name: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      await this.saveFailure(name);
      throw error;
    }
  }

  /** Saves failure evidence from every open window. */
  async saveFailure(step: string): Promise<void> {
    for (const window of this.windows.values()) await window.workbench.saveFailure(step).catch(() => undefined);
    await this.saveRecords().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.saveRecords().catch(() => undefined);
    for (const name of [...this.windows.keys()]) {
      const window = this.windows.get(name) as VolunteerWindow;
      await window.workbench.close();
      await window.editor.stop();
    }
    this.windows.clear();
    await this.browser.close().catch(() => undefined);
    await this.coordinator.stop();
    await this.github.close();
    await this.gitHttp?.close();
    if (!process.env.OWP_E2E_KEEP) rmSync(this.root, { recursive: true, force: true });
  }
}

/** The coordinator's `github:` section for the GitHub-shaped server at `apiUrl` (the README's token route). */
function connectGitHub(root: string, apiUrl: string, webUrl: string): { configFile: string; env: Record<string, string> } {
  const configFile = join(root, 'coordinator.json');
  const github = {
    api_url: apiUrl,
    // Where PR links point (github.com's pages; here the git-over-HTTP server's address).
    web_url: webUrl,
    token_env: 'OWP_GITHUB_TOKEN',
    webhook_secret_env: 'OWP_GITHUB_WEBHOOK_SECRET',
    // Webhooks say when to look; the poll is the fallback a real deployment keeps.
    poll_interval_ms: 30_000,
    repos: [{ repo: REPO }],
  };
  writeFileSync(configFile, JSON.stringify({ github }, null, 2));
  return { configFile, env: { OWP_GITHUB_TOKEN: COORDINATOR_GITHUB.token, OWP_GITHUB_WEBHOOK_SECRET: COORDINATOR_GITHUB.webhookSecret } };
}

/** Polls `probe` until it returns a truthy value; fails with `what` after timeoutMs. */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** End of a lease's hold on its task's area: the lease ends without a PR, or the task finishes. */
const AREA_RELEASING_EVENTS = new Set(['lease.released', 'lease.expired', 'lease.cancelled', 'task.merged', 'task.closed', 'task.blocked']);

/**
 * Pairs of tasks in the same area whose leases overlapped in time, read from the journal. A lease
 * holds its area from lease.granted until it ends without a PR or its task is merged or closed.
 */
export function sameAreaOverlaps(events: JournalEvent[], areaOf: (taskId: string) => string | undefined): Array<{ area: string; tasks: [string, string]; seq: number }> {
  const holders = new Map<string, string>();
  const overlaps: Array<{ area: string; tasks: [string, string]; seq: number }> = [];
  for (const event of events) {
    const taskId = event.task_id;
    if (!taskId) continue;
    const area = areaOf(taskId);
    if (!area) continue;
    if (event.type === 'lease.granted') {
      const holder = holders.get(area);
      if (holder && holder !== taskId) overlaps.push({ area, tasks: [holder, taskId], seq: event.seq });
      holders.set(area, taskId);
    } else if (AREA_RELEASING_EVENTS.has(event.type) && holders.get(area) === taskId) {
      holders.delete(area);
    }
  }
  return overlaps;
}
