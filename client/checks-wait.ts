/**
 * Following a submitted PR through the repo's required CI checks, the same way in the CLI and the
 * extension (SPEC §5.5): where the task stands (waiting, a check failed, the wait timed out,
 * counted), how its evidence is labelled (proven by CI or self-reported), a poll loop for
 * `owp submit --wait`, and marking the volunteer's draft ready for review once it counts — with
 * the volunteer's own token, since the coordinator never writes to PRs.
 */
import type { PrChecks, PullRequestInfo, Task } from '../protocol/model.ts';
import { volunteerOctokit } from './github-api.ts';
import { markReadyForReview, type ReadyForReviewResult } from './ready-for-review.ts';

export type PrPhase =
  /** No PR reported yet. */
  | 'none'
  /** Attached to the lease, some required check has not finished. */
  | 'waiting'
  /** A required check failed on the PR's head: fix, push, submit again. */
  | 'failed'
  /** The checks deadline passed first: the lease needs heartbeats again; it still counts once they pass. */
  | 'timed_out'
  /** The PR counts as opened. */
  | 'counted'
  /** The task went elsewhere (requeued, cancelled, blocked) before the PR counted. */
  | 'gone';

export interface PrProgress {
  phase: PrPhase;
  pr?: PullRequestInfo;
  checks?: PrChecks;
  /** How the PR's evidence reads to a person: only meaningful once it counts. */
  evidence?: NonNullable<PullRequestInfo['evidence']>;
}

const HELD = new Set(['leased', 'in_progress']);
const COUNTED = new Set(['pr_opened', 'merged']);

/** Where a task's PR stands, from the task as the coordinator shows it. */
export function prProgress(task: Pick<Task, 'state' | 'pr' | 'checks'>): PrProgress {
  const base = { ...(task.pr ? { pr: task.pr } : {}), ...(task.checks ? { checks: task.checks } : {}) };
  if (COUNTED.has(task.state) && task.pr) return { phase: 'counted', ...base, evidence: task.pr.evidence ?? (task.checks ? 'ci' : 'self_reported') };
  if (!HELD.has(task.state)) return { phase: task.pr ? 'gone' : 'none', ...base };
  if (!task.pr || !task.checks) return { phase: 'none', ...base };
  if (task.checks.status === 'failure') return { phase: 'failed', ...base };
  if (task.checks.timed_out_at !== undefined) return { phase: 'timed_out', ...base };
  return { phase: 'waiting', ...base };
}

/** "proven by CI (build, test)" / "self-reported (no CI checks required)" — said wherever evidence is shown. */
export function evidenceLabel(progress: Pick<PrProgress, 'evidence' | 'checks'>): string {
  if (progress.evidence === 'maintainer') return 'merged by the maintainers before its required CI checks finished';
  if (progress.evidence === 'ci') {
    const names = progress.checks?.checks.map((c) => c.name) ?? [];
    return names.length > 0 ? `proven by CI (${names.join(', ')})` : 'proven by CI';
  }
  return 'self-reported (the volunteer\'s own gate runs; no CI checks required)';
}

/** Stops the wait: counted, failed, timed out, or the task left this worker. */
export function waitIsOver(phase: PrPhase): boolean {
  return phase !== 'waiting';
}

export interface FollowOptions {
  /** Reads the task as the coordinator shows it now (task.get). */
  read: () => Promise<Task>;
  /** Time between reads. */
  intervalMs: number;
  /** Called with each change of phase or of a check's status (and once at the start). */
  onChange?: (progress: PrProgress, task: Task) => void;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function signature(p: PrProgress): string {
  return JSON.stringify([p.phase, p.checks?.head_sha, p.checks?.checks.map((c) => [c.name, c.status, c.url])]);
}

/** Polls until the wait is over; returns the last progress (and task). Aborting throws the signal's reason. */
export async function followChecks(options: FollowOptions): Promise<{ progress: PrProgress; task: Task }> {
  const sleep = options.sleep ?? defaultSleep;
  let last: string | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const task = await options.read();
    const progress = prProgress(task);
    const sig = signature(progress);
    if (sig !== last) {
      last = sig;
      options.onChange?.(progress, task);
    }
    if (waitIsOver(progress.phase)) return { progress, task };
    await sleep(options.intervalMs, options.signal);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

/** `https://github.com/acme/site/pull/7` → acme, site, 7 (GitHub Enterprise URLs read the same). */
export function pullRef(url: string): { owner: string; repo: string; number: number } | undefined {
  const m = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/pull\/(\d+)(?:[/?#]|$)/.exec(url);
  return m ? { owner: m[1]!, repo: m[2]!, number: Number(m[3]) } : undefined;
}

/**
 * Marks a PR that counts ready for review with the volunteer's token. A PR that was never a draft
 * (or was already marked) costs a read only. Throws ReadyForReviewError when GitHub refuses.
 */
export async function markCountedReady(pr: Pick<PullRequestInfo, 'url'>, github: { token: string; apiBaseUrl?: string }): Promise<ReadyForReviewResult> {
  const ref = pullRef(pr.url);
  if (!ref) throw new Error(`${pr.url} is not a GitHub pull request URL; mark it ready for review on its page.`);
  return markReadyForReview(volunteerOctokit({ token: github.token, ...(github.apiBaseUrl ? { apiBaseUrl: github.apiBaseUrl } : {}) }), ref);
}
