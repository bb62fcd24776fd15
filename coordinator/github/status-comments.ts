/**
 * Comment-only write-back: one OWP status comment per issue, edited in place (never a stream of
 * comments), found again by a hidden marker. It follows the journal — leased, PR opened,
 * requeued, blocked, merged, closed — credits the volunteer and links the PR. Off unless the
 * repo's `comments: true`. Updates for one issue are coalesced: only the newest status is
 * written, so a burst of events costs one edit.
 *
 * Free text from volunteers (block reasons) goes into code spans, so it can neither mention
 * people nor link anywhere; logins are protocol-validated and linked without an @ (no pings).
 */
import { visibleLine } from '../../protocol/untrusted-text.ts';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { skipUnknownEvent } from '../../protocol/unknown-event.ts';
import { formatLeaseDeadlineAt } from '../../protocol/vocabulary.ts';
import type { TaskRecord } from '../state/records.ts';
import { prNumberOf, type ConnectedRepo, type IntegrationContext } from './context.ts';

export const STATUS_MARKER = '<!-- owp:status -->';

interface Pending {
  repo: ConnectedRepo;
  number: number;
  desired: string;
  /** Only edit an existing comment (a task closed before anyone took it needs no comment). */
  onlyIfExists: boolean;
  written: string | undefined;
  commentId: number | null | undefined;
  running: Promise<void> | undefined;
}

function codeSpan(text: string, max = 200): string {
  // Visible characters only (protocol/untrusted-text.ts): a worker wrote this reason.
  const clean = visibleLine(text, max + 1).replace(/[`\s]+/g, ' ').trim().slice(0, max);
  return clean ? `\`${clean}\`` : '';
}

/** `build` and `test (ubuntu-latest)`, as code spans (check names are the repo's text). */
function checkNames(names: readonly string[]): string {
  const spans = names.map((n) => codeSpan(n) || 'a check');
  return spans.length <= 1 ? (spans[0] ?? 'its checks') : `${spans.slice(0, -1).join(', ')} and ${spans.at(-1) as string}`;
}

export class StatusComments {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly ctx: IntegrationContext) {}

  onEvents(events: readonly JournalEvent[]): void {
    for (const e of events) {
      const repo = this.ctx.repo(e.repo);
      if (!repo?.config.comments || !e.task_id) continue;
      const task = this.ctx.task(e.task_id);
      if (!task?.issue) continue;
      const status = this.render(e, task, repo);
      if (status) this.enqueue(repo, task.issue.number, status.body, status.onlyIfExists);
    }
  }

  /** Resolves once every queued edit has been written (or has given up). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.pending.values()].map((p) => p.running).filter((r): r is Promise<void> => r !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private render(e: JournalEvent, task: TaskRecord, repo: ConnectedRepo): { body: string; onlyIfExists: boolean } | undefined {
    const web = this.ctx.config.web_url;
    const person = (login: string | undefined): string => (login ? `[${login}](${web}/${login})` : 'a volunteer');
    const ref = `OWP task \`${task.id}\``;
    const prLink = (): string => {
      const n = prNumberOf(task, repo, web);
      return n ? `[#${n}](${web}/${repo.owner}/${repo.name}/pull/${n})` : 'the pull request';
    };
    const author = (): string | undefined => {
      const x = (task.pr as { x_github?: { author?: unknown } } | undefined)?.x_github;
      return typeof x?.author === 'string' ? x.author : this.ctx.login(this.ctx.state.data.pr_authors[task.id]?.worker_id ?? e.worker_id);
    };
    let line: string;
    let onlyIfExists = false;
    // Every event type is named: a new one does not compile until it says whether the issue's status changes.
    switch (e.type) {
      case 'lease.granted':
        line = `🛠️ **In progress** — ${person(this.ctx.login(e.worker_id))} is working on this (${ref}; lease ${formatLeaseDeadlineAt(e.data.max_deadline_at)}).`;
        break;
      case 'pr.opened': {
        if (e.data.pr.evidence === 'maintainer') return undefined; // merged before its checks passed: task.merged follows in the same write.
        const proof = e.data.pr.evidence === 'ci' ? 'its required checks passed' : 'its gates are self-reported by the volunteer';
        line = `🔍 **In review** — pull request ${prLink()} by ${person(this.ctx.login(e.worker_id))} is waiting for review; ${proof} (${ref}).${laneNote(e.data.pr)}`;
        break;
      }
      case 'pr.attached':
        line = `⏳ **Waiting for CI** — pull request ${prLink()} by ${person(this.ctx.login(e.worker_id))} goes to review once ${checkNames(e.data.checks.checks.map((c) => c.name))} pass (${ref}).`;
        break;
      case 'pr.checks_updated': {
        if (e.data.checks.status === 'success') return undefined; // pr.opened follows in the same write.
        const failed = e.data.checks.checks.filter((c) => c.status === 'failure').map((c) => c.name);
        if (failed.length > 0) line = `❗ **CI failing** — ${checkNames(failed)} failed on pull request ${prLink()}; ${person(this.ctx.login(e.worker_id))} is on it (${ref}).`;
        else if (e.data.restarted) line = `⏳ **Waiting for CI** — new commits on pull request ${prLink()}; waiting for ${checkNames(e.data.checks.checks.map((c) => c.name))} again (${ref}).`;
        else return undefined;
        break;
      }
      case 'pr.checks_timed_out':
        line = `⏰ **CI deadline passed** — pull request ${prLink()} did not pass its required checks in time; it is back with ${person(this.ctx.login(e.worker_id))} (${ref}).`;
        break;
      case 'lease.released':
      case 'lease.expired':
      case 'lease.cancelled': {
        const how = e.type === 'lease.released' ? 'handed it back' : e.type === 'lease.expired' ? 'stopped responding' : 'had the lease cancelled';
        line = e.data.to === 'blocked'
          ? `⛔ **Blocked** — ${person(this.ctx.login(e.worker_id))} ${how} and the task ran out of attempts; a maintainer can unblock it (${ref}).`
          : `↩️ **Back in the queue** — ${person(this.ctx.login(e.worker_id))} ${how}; it will be offered to another volunteer (${ref}).`;
        break;
      }
      case 'task.blocked': {
        const reason = codeSpan(e.data.reason);
        line = `⛔ **Blocked** by ${e.data.by === 'worker' ? `${person(this.ctx.login(e.worker_id))}` : 'a maintainer'}${reason ? `: ${reason}` : ''} (${ref}).`;
        break;
      }
      case 'task.unblocked':
        line = `📋 **Back in the queue** — unblocked by a maintainer (${ref}).`;
        onlyIfExists = true;
        break;
      case 'task.merged':
        line = `✅ **Merged** — pull request ${prLink()} by ${person(author())} was merged. Thank you! (${ref})`;
        break;
      case 'task.closed':
        if (e.data.outcome === 'closed') {
          line = `❌ **Closed** — pull request ${prLink()} by ${person(author())} was closed without merging (${ref}).`;
        } else {
          line = `🚫 **Closed** — OWP is no longer working on this issue (${ref}).`;
          onlyIfExists = true;
        }
        break;
      // Offers come and go without the issue hearing of them; the rest are not about one task's progress.
      case 'offer.created':
      case 'offer.declined':
      case 'offer.expired':
      case 'offer.withdrawn':
      case 'task.created':
      case 'task.updated':
      case 'task.started':
      case 'task.archived':
      case 'repo.configured':
      case 'maintainer.created':
      case 'maintainer.revoked':
      case 'worker.registered':
      case 'worker.token_rotated':
      case 'worker.updated':
      case 'worker.trust_changed':
      case 'worker.revoked':
      case 'worker.connected':
      case 'worker.disconnected':
      case 'worker.heartbeat_lost':
      case 'coordinator.started':
      case 'policy.dry_run_hit':
      case 'contributor.standing_set':
      case 'budget.adapted':
        return undefined;
      default:
        skipUnknownEvent(e);
        return undefined;
    }
    const at = new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      body: `${STATUS_MARKER}\n**OWP status**\n\n${line}\n\n<sub>Updated ${at}. This comment is edited in place by the OWP coordinator as the task moves; volunteers open pull requests as themselves.</sub>`,
      onlyIfExists,
    };
  }

  private enqueue(repo: ConnectedRepo, number: number, body: string, onlyIfExists: boolean): void {
    const key = `${repo.config.repo}#${number}`;
    let entry = this.pending.get(key);
    if (!entry) this.pending.set(key, (entry = { repo, number, desired: body, onlyIfExists, written: undefined, commentId: undefined, running: undefined }));
    entry.desired = body;
    entry.onlyIfExists = onlyIfExists;
    entry.running ??= this.drain(entry).finally(() => {
      (entry as Pending).running = undefined;
    });
  }

  private async drain(entry: Pending): Promise<void> {
    const { client, owner, name } = entry.repo;
    let failures = 0;
    while (entry.desired !== entry.written) {
      const body = entry.desired;
      try {
        if (entry.commentId === undefined) entry.commentId = await this.find(entry);
        if (entry.commentId === null) {
          if (!entry.onlyIfExists) entry.commentId = (await client.createComment(owner, name, entry.number, body)).id;
        } else if ((await client.updateComment(owner, name, entry.commentId, body)) === null) {
          // Someone deleted it: look again (and create a new one) on the next turn.
          entry.commentId = undefined;
          continue;
        }
        entry.written = body;
        failures = 0;
      } catch (error) {
        failures += 1;
        this.ctx.log.warn({ repo: entry.repo.config.repo, issue: entry.number, err: error }, `status comment on ${entry.repo.config.repo}#${entry.number} failed${failures < 4 ? '; retrying' : '; giving up until the next change'}`);
        if (failures >= 4) return;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** failures));
      }
    }
  }

  /** Our earlier comment on the issue: the marker, written by this coordinator's own login (its App's `<slug>[bot]`, or the token's user). */
  private async find(entry: Pending): Promise<number | null> {
    const { client, owner, name } = entry.repo;
    // Only a comment this coordinator wrote is adopted: anyone can post the marker. When its own
    // login cannot be learned now, nothing is written (drain retries) rather than adopt a stranger's.
    const me = await client.viewerLogin();
    if (me === null) throw new Error('the coordinator\'s own GitHub login is unknown (GET /user failed)');
    const comments = await client.comments(owner, name, entry.number);
    const ours = comments.find((c) => c.body?.startsWith(STATUS_MARKER) && c.user?.login.toLowerCase() === me.toLowerCase());
    return ours ? ours.id : null;
  }
}

/** The pr_lane check's finding on a PR that strays beyond its task's area (x_github.lane), or nothing. */
export function laneNote(pr: unknown): string {
  const lane = (pr as { x_github?: { lane?: { task_area?: unknown; stray?: unknown; unmatched?: unknown; verdict?: unknown } } } | undefined)?.x_github?.lane;
  if (!lane || (lane.verdict !== 'flagged' && lane.verdict !== 'allowed')) return '';
  const stray = Array.isArray(lane.stray) ? lane.stray.filter((a): a is string => typeof a === 'string') : [];
  const unmatched = Array.isArray(lane.unmatched) ? lane.unmatched.filter((p): p is string => typeof p === 'string') : [];
  const parts = [...(stray.length > 0 ? [`area${stray.length === 1 ? '' : 's'} ${stray.map((a) => codeSpan(a)).join(', ')}`] : []), ...(unmatched.length > 0 ? [`${unmatched.length} path(s) no area owns (${unmatched.slice(0, 3).map((p) => codeSpan(p)).join(', ')})`] : [])];
  const flagged = lane.verdict === 'flagged' ? ' — **flagged** for the maintainers' : '';
  return ` ⚠️ It strays beyond its task's area ${codeSpan(String(lane.task_area))}: it touches ${parts.join(' and ')}${flagged}.`;
}
