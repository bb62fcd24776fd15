/**
 * What the demo's beats share: the options and timings, the narration (a clock, who said what, in
 * colour or as JSON events), the stage the first beat sets up (coordinator, GitHub-shaped server,
 * git remote), the volunteers, and what has happened so far (PRs, merges, the kill).
 */
import type { Principal } from '../../coordinator/auth.ts';
import type { Started } from '../../coordinator/server.ts';
import type { HttpClient } from '../../client/http-client.ts';
import { oneLine } from '../../client/prompt.ts';
import type { Output } from '../output.ts';
import type { FakeGitHub } from './github/server.ts';
import type { JournalStory } from './journal-story.ts';
import type { SimWorker, SimWorkerSpec } from './sim-worker.ts';

export interface DemoOptions {
  /** 1 = about five minutes; 6 ≈ one minute. */
  speed: number;
  port: number;
  dataDir?: string;
  /** Keep the data dir (journal, git repos) afterwards. */
  keep: boolean;
  /** Keep the coordinator and dashboard up after the summary until Ctrl-C / q. */
  stay: boolean;
  /** Kill a worker on cue (default), or only when the presenter presses k. */
  autoKill: boolean;
  out: Output;
  input?: NodeJS.ReadStream;
}

export const DEMO_WORKERS: SimWorkerSpec[] = [
  { name: 'Ada', login: 'ada', skills: ['docs'], capacity: 2, trust: 0 },
  { name: 'Grace', login: 'grace', skills: ['docs', 'ts', 'tests'], capacity: 3, trust: 1 },
  { name: 'Linus', login: 'linus', skills: ['docs', 'ts', 'tests', 'perf'], capacity: 5, trust: 2 },
];

/** Base timings at speed 1 (about five minutes in all). */
export const BASE = {
  beatPauseMs: 2500,
  thinkMs: 1500,
  workMs: 20_000,
  workPerEffortMs: 5000,
  reviewAfterMs: 18_000,
  mergeGapMs: 9000,
  heartbeatTimeoutMs: 15_000,
  offerTimeoutMs: 10_000,
  killAfterPrs: 3,
  maxDurationMs: 8 * 60_000,
};

/** What beat 1 sets up and every later beat uses. */
export interface Stage {
  started: Started;
  url: string;
  admin: HttpClient;
  adminPrincipal: Principal;
  remote: string;
  /** The GitHub-shaped server (Enterprise layout), its repo backed by the git remote. */
  github: FakeGitHub;
  /** Each volunteer's GitHub token, by login. */
  githubTokens: Map<string, string>;
  titles: Map<string, string>;
  /** Stops narrating the journal. */
  unfollow(): void;
}

export class DemoScene {
  readonly out: Output;
  readonly c: Output['colors'];
  readonly startedAt = Date.now();
  /** Heartbeats and offers keep a floor: on a busy machine a shorter timeout expires live leases. */
  readonly heartbeatTimeoutMs: number;
  readonly offerTimeoutMs: number;
  /** Worker id → login, for narration. */
  readonly names = new Map<string, string>();
  readonly workers: SimWorker[] = [];
  prsOpened = 0;
  merged = 0;
  /** A volunteer picked to be killed (on cue or by the presenter), not yet killed. */
  victim: { worker: SimWorker; why: string } | undefined;
  killed: SimWorker | undefined;
  requeuedAfterKill = false;
  /** The presenter pressed q (or Ctrl-C): summarise now. */
  quit = false;
  /** Every doable task is merged. */
  finished = false;
  timedOut = false;
  /** Git and the gates do not speed up with --speed, so fast runs get a floor. */
  readonly maxDurationMs: number;
  /** When the play gives up and summarises (set when it starts). */
  deadline = Number.POSITIVE_INFINITY;
  lastMergeAt = 0;
  /** Stops hearing the presenter's keys and signals (set while the play runs). */
  stopListening: () => void = () => undefined;
  /** The closing story, read from the journal by the last beat. */
  story: JournalStory | undefined;
  private stageSet: Stage | undefined;

  constructor(
    readonly options: DemoOptions,
    readonly dataDir: string,
  ) {
    this.out = options.out;
    this.c = options.out.colors;
    this.heartbeatTimeoutMs = Math.max(4000, this.t(BASE.heartbeatTimeoutMs));
    this.offerTimeoutMs = Math.max(2000, this.t(BASE.offerTimeoutMs));
    this.maxDurationMs = Math.max(this.t(BASE.maxDurationMs), 3 * 60_000);
  }

  /** A base duration at this run's speed. */
  t(ms: number): number {
    return Math.max(1, Math.round(ms / this.options.speed));
  }

  get stage(): Stage {
    if (!this.stageSet) throw new Error('The demo\'s stage is set up by its first beat.');
    return this.stageSet;
  }

  set stage(stage: Stage) {
    this.stageSet = stage;
  }

  /** The play is over: every doable task merged, the presenter quit, or time ran out. */
  get over(): boolean {
    return this.quit || this.finished || this.timedOut;
  }

  announce(n: number, title: string): void {
    this.out.block(`\n${this.c.bold(this.c.magenta(`Beat ${n} · ${title}`))}`);
    this.out.event('beat', { beat: n, title });
  }

  say(actor: string, message: string, data: Record<string, unknown> = {}): void {
    this.out.event('narration', { actor: actor.trim(), message, ...data });
    if (!this.out.json) this.out.block(`${this.clock()} ${actor} ${message}`);
  }

  /** A worker's login, padded and in its own colour. */
  who(workerId: string | undefined): string {
    const paint = [this.c.cyan, this.c.yellow, this.c.green, this.c.blue];
    const name = (workerId && this.names.get(workerId)) ?? workerId ?? '?';
    const i = DEMO_WORKERS.findIndex((w) => w.login === name);
    return (paint[i] ?? this.c.white)(name.padEnd(6));
  }

  nameOf(workerId: string | undefined): string {
    return this.names.get(workerId ?? '') ?? workerId ?? '?';
  }

  /** A task as `T-3 "Fix the typo…"`. */
  label(taskId: string | undefined): string {
    return `${this.c.bold(taskId ?? '?')} ${this.c.dim(`"${oneLine(this.stage.titles.get(taskId ?? '') ?? '', 38)}"`)}`;
  }

  private clock(): string {
    const s = Math.floor((Date.now() - this.startedAt) / 1000);
    return this.c.dim(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`);
  }
}
