/**
 * The dashboard entry: loads the pool over HTTP, follows the journal over socket.io, and draws.
 * Bundled by esbuild to dist/media/dashboard.js (+ dashboard.css); served by the coordinator at
 * `/` and loaded by the VS Code extension in a webview.
 */
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import { isTerminal, TASK_STATES } from '../../protocol/states.ts';
import { ApiError, DashboardApi } from './api.ts';
import { MetricCharts } from './charts.ts';
import { isPlausibleToken, readConfig, storeToken, type DashboardConfig } from './config.ts';
import { LiveJournal, type LiveState } from './live.ts';
import { MetricsHistory } from './metrics-history.ts';
import { DASHBOARD_ROOT_ID } from './shell.ts';
import { DashboardModel, DEFAULT_LIMITS } from './model.ts';
import type { ConnectionLabel } from './panels/panel.ts';
import { DashboardView } from './view.ts';

/** Renders are batched: at most one per this many ms however fast events arrive. */
const MIN_RENDER_INTERVAL_MS = 300;
/** Countdowns and ages move in place this often. */
const TICK_MS = 250;
/** Heartbeats are not journaled: live leases' deadlines are re-read this often. */
const LEASE_REFRESH_MS = 2000;
/** Metrics samples, budgets (the hourly window slides), heartbeat ages and "why not offered". */
const SLOW_REFRESH_MS = 5000;
/** Without a token there is no journal: the public parts are re-read this often. */
const POLL_MS = 3000;
/** How much journal history the first connection replays for the feed and the leaderboard. */
const HISTORY_EVENTS = 2000;
const EXPLAIN_TASKS = 12;

class DashboardApp {
  private model = new DashboardModel();
  private readonly history = new MetricsHistory();
  private readonly api: DashboardApi;
  private readonly view: DashboardView;
  private readonly charts: MetricCharts;
  private live: LiveJournal | undefined;
  private connection: ConnectionLabel = 'connecting';
  private connectionDetail: string | undefined;
  private coordinatorName: string | undefined;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private lastRenderAt = 0;
  private firstHello = true;
  private explainTimer: ReturnType<typeof setTimeout> | undefined;
  private currentToken: string | undefined;
  private metricsTimer: ReturnType<typeof setTimeout> | undefined;
  /** The coordinator answers nothing without a token: show the sign-in and stop polling. */
  private publicRefused = false;

  constructor(
    root: HTMLElement,
    private readonly config: DashboardConfig,
  ) {
    this.currentToken = config.token;
    this.api = new DashboardApi(config.coordinatorUrl, config.token);
    this.view = new DashboardView(
      root,
      {
        signIn: (token) => void this.signIn(token),
        signOut: () => this.signOut(),
        createTask: async (fields) => {
          const { task } = await this.api.createTask(fields);
          return `Created ${task.id}.`;
        },
        cancelLease: async (leaseId) => {
          const { task } = await this.api.cancelLease(leaseId, 'cancelled from the dashboard');
          return `Cancelled ${leaseId}; ${task.id} is ${task.state} again.`;
        },
        unblockTask: async (taskId) => {
          const { task } = await this.api.unblockTask(taskId);
          return `${task.id} is ${task.state} again.`;
        },
        configureRepo: async (repo, settings) => {
          const result = await this.api.configureRepo(repo, settings);
          this.model.loadRepos([{ settings: result.settings, budget: result.budget, locks: {} }]);
          return `Saved the budget of ${repo}.`;
        },
        setStanding: async (repo, login, action, reason) => {
          const { contributor } = await this.api.setStanding(repo, login, action, reason);
          await this.refreshStandings([repo]);
          return `@${contributor.login} is ${contributor.status} in ${repo}.`;
        },
      },
      () => this.requestRender(),
    );
    this.charts = new MetricCharts(this.view.chartsHost);
  }

  async start(): Promise<void> {
    try {
      const info = await this.api.info();
      this.coordinatorName = info.name;
    } catch (error) {
      this.setConnection('offline', (error as Error).message);
    }
    await this.loadAll();
    if (this.api.signedIn) this.startLive();
    else if (!this.publicRefused) this.setConnection('polling');
    setInterval(() => this.view.tick(Date.now()), TICK_MS);
    setInterval(() => void this.fast(), LEASE_REFRESH_MS);
    setInterval(() => void this.slow(), SLOW_REFRESH_MS);
    setInterval(() => void (this.api.signedIn || this.publicRefused ? undefined : this.loadAll()), POLL_MS);
  }

  // ---- loading ---------------------------------------------------------------------------------------

  /** A full load. The journal position is read first, so the journal replays anything the load missed. */
  private async loadAll(): Promise<void> {
    try {
      const metrics = await this.api.metrics();
      const [repos, taskLists, workers] = await Promise.all([
        this.api.repos(),
        // Live tasks in full; of the finished ones only the newest, as many as the model keeps (their column counts the rest).
        Promise.all(TASK_STATES.map((state) => (isTerminal(state) ? this.api.recentTasks(state, DEFAULT_LIMITS.finishedTasks) : this.api.tasks(state)))),
        this.api.signedIn ? this.api.workers().catch((error: unknown) => this.onAuthError(error)) : undefined,
      ]);
      const model = this.api.signedIn && this.live ? this.model : new DashboardModel();
      model.setBaseSeq(metrics.journal_seq);
      model.loadMetrics(metrics);
      model.loadRepos(repos.repos);
      model.loadTasks(taskLists.flatMap((l) => l.tasks));
      if (workers) model.loadWorkers(workers.workers);
      if (model !== this.model) {
        // A polling reload replaces the picture; keep the reasons already fetched for tasks still ready.
        for (const [id, why] of this.model.explanations) if (model.tasks.get(id)?.state === 'ready') model.explanations.set(id, why);
      }
      this.model = model;
      if (this.api.signedIn) await this.refreshStandings();
      this.history.add(Date.now(), metrics);
      this.charts.update(this.history.view());
      if (this.connection === 'offline') this.setConnection(this.api.signedIn ? 'connecting' : 'polling');
      this.scheduleExplain(0);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED' && !this.api.signedIn) {
        // OWP reads need a token (SPEC AUTH-001); stop asking until someone signs in.
        this.publicRefused = true;
        this.setConnection('signed-out', error.message);
      } else this.setConnection('offline', (error as Error).message);
    }
    this.requestRender();
  }

  private async fast(): Promise<void> {
    if (!this.api.signedIn || this.model.leases().length === 0) return;
    try {
      const [leased, working] = await Promise.all([this.api.tasks('leased'), this.api.tasks('in_progress')]);
      this.model.refreshLeases([...leased.tasks, ...working.tasks]);
      this.requestRender();
    } catch {
      // The next round retries; the connection pill reports outages.
    }
  }

  private async refreshMetrics(): Promise<void> {
    const metrics = await this.api.metrics();
    if (this.live && metrics.journal_seq < this.model.seq) {
      // The journal went backwards: a fresh coordinator (memory store) on the same address. Start over.
      this.live.close();
      this.live = undefined;
      this.model = new DashboardModel();
      await this.loadAll();
      this.startLive();
      return;
    }
    this.model.loadMetrics(metrics);
    this.history.add(Date.now(), metrics);
    this.charts.update(this.history.view());
  }

  /**
   * Each repo's contributors as the coordinator counts them (policy.standings: maintainers only).
   * A repo the token does not cover, or an older coordinator without the read, keeps what it had.
   */
  private async refreshStandings(repos: readonly string[] = [...this.model.repos.keys()]): Promise<void> {
    if (!this.api.signedIn) return;
    const model = this.model;
    await Promise.all(repos.map(async (repo) => {
      try {
        model.loadStandings(repo, (await this.api.standings(repo)).standings);
      } catch {
        // FORBIDDEN outside the token's scope; UNKNOWN_OPERATION before the read existed.
      }
    }));
    this.requestRender();
  }

  /** After journal events the figures move: re-read them soon, once per burst. */
  private scheduleMetrics(delayMs: number): void {
    if (this.metricsTimer) return;
    this.metricsTimer = setTimeout(() => {
      this.metricsTimer = undefined;
      this.refreshMetrics().then(() => this.requestRender(), () => undefined);
      void this.refreshStandings();
    }, delayMs);
  }

  private async slow(): Promise<void> {
    if (!this.api.signedIn && this.publicRefused) return;
    try {
      await this.refreshMetrics();
      if (this.api.signedIn) {
        const [repos, workers] = await Promise.all([this.api.repos(), this.api.workers()]);
        this.model.loadRepos(repos.repos);
        this.model.refreshWorkers(workers.workers);
        await this.refreshStandings();
      }
      this.scheduleExplain(0);
    } catch (error) {
      this.onAuthError(error);
    }
    this.requestRender();
  }

  /** Asks the coordinator why the first ready tasks are not offered (debounced). */
  private scheduleExplain(delayMs: number): void {
    if (this.explainTimer) return;
    this.explainTimer = setTimeout(() => {
      this.explainTimer = undefined;
      const ids = this.model.readyTaskIds(EXPLAIN_TASKS);
      void Promise.all(
        ids.map(async (id) => {
          try {
            const r = await this.api.explain(id);
            if (r.state === 'ready') this.model.setExplanation(id, { offerable: r.offerable, reasons: r.reasons, eligible_workers: r.eligible_workers, fetched_at: Date.now() });
          } catch {
            // Archived or gone meanwhile.
          }
        }),
      ).then(() => this.requestRender());
    }, delayMs);
  }

  // ---- live journal ----------------------------------------------------------------------------------

  private startLive(): void {
    const token = this.config.hostProvided ? this.config.token : this.currentToken;
    if (!token) return;
    this.firstHello = true;
    this.live = new LiveJournal(this.config.coordinatorUrl, token, {
      lastSeq: () => {
        // The first hello also replays recent history for the feed (the model folds only what is new).
        const seq = this.model.seq;
        const after = this.firstHello ? Math.max(0, seq - HISTORY_EVENTS) : seq;
        this.firstHello = false;
        return after;
      },
      onEvents: (events) => {
        if (this.model.applyEvents(events)) {
          this.requestRender();
          this.scheduleExplain(800);
          this.scheduleMetrics(1000);
        }
      },
      onState: (state: LiveState, detail?: string) => {
        if (state === 'refused') {
          this.view.say(`The coordinator refused the token: ${detail ?? 'unknown reason'}. Showing the public view.`, 'error');
          this.signOut();
          return;
        }
        this.setConnection(state, detail);
      },
    });
  }

  private async signIn(token: string): Promise<void> {
    if (!isPlausibleToken(token)) {
      this.view.say('That does not look like a token (printable characters, at least 8).', 'error');
      return;
    }
    const probe = new DashboardApi(this.config.coordinatorUrl, token);
    try {
      await probe.workers();
    } catch (error) {
      this.view.say(`Sign-in failed: ${(error as Error).message}`, 'error');
      return;
    }
    storeToken(token);
    this.publicRefused = false;
    this.currentToken = token;
    this.api.setToken(token);
    this.view.say('Signed in as a maintainer.');
    this.model = new DashboardModel();
    await this.loadAll();
    this.startLive();
  }

  private signOut(): void {
    this.live?.close();
    this.live = undefined;
    if (!this.config.hostProvided) storeToken(undefined);
    this.currentToken = undefined;
    this.api.setToken(undefined);
    this.model = new DashboardModel();
    this.setConnection('polling');
    void this.loadAll();
  }

  private onAuthError(error: unknown): undefined {
    if (error instanceof ApiError && (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN') && this.api.signedIn) {
      this.view.say(`The coordinator refused the token (${error.message}). Showing the public view.`, 'error');
      this.signOut();
    }
    return undefined;
  }

  // ---- drawing ---------------------------------------------------------------------------------------

  private setConnection(state: ConnectionLabel, detail?: string): void {
    this.connection = state;
    this.connectionDetail = detail;
    this.requestRender();
  }

  private requestRender(): void {
    if (this.renderTimer) return;
    const wait = Math.max(0, this.lastRenderAt + MIN_RENDER_INTERVAL_MS - Date.now());
    this.renderTimer = setTimeout(() => {
      requestAnimationFrame(() => {
        this.renderTimer = undefined;
        this.lastRenderAt = Date.now();
        this.view.render(this.model, {
          now: Date.now(),
          signedIn: this.api.signedIn,
          locked: !this.api.signedIn && this.publicRefused,
          hostProvidedToken: this.config.hostProvided,
          connection: this.connection,
          ...(this.connectionDetail ? { connectionDetail: this.connectionDetail } : {}),
          ...(this.coordinatorName ? { coordinatorName: this.coordinatorName } : {}),
        });
      });
    }, wait);
  }
}

const script = document.currentScript;
const root = document.getElementById(DASHBOARD_ROOT_ID) ?? document.body.appendChild(document.createElement('main'));
void new DashboardApp(root, readConfig(script)).start();
