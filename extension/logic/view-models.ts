/**
 * What the sidebar and status bar show, computed from a pool snapshot and the clock. The tree
 * providers only turn these into TreeItems; everything a person reads is decided here.
 */
import type { Lease, Offer, Task, Worker } from '../../protocol/model.ts';
import { TREE_ITEM_KINDS } from '../constants.ts';
import { escapeMarkdown, escapeMarkdownBlock, plainText, safeHttpUrl } from './markdown.ts';
import type { PoolSnapshot, SessionState } from './pool-session.ts';
import { formatRemaining } from './time-format.ts';
import { formatBudget, formatReservedBudget, formatCapacity, formatCapacityDetail, formatHeartbeat, formatLeaseDeadline, heartbeatTimeoutOf, type CapacityFigures } from '../../protocol/vocabulary.ts';

export interface TreeItemView {
  /** Stable id across refreshes (keeps selection and expansion). */
  id: string;
  label: string;
  description: string;
  /** Markdown built only from escaped text; render untrusted, without HTML. */
  tooltip: string;
  contextValue: string;
  /** Codicon id. */
  icon: string;
  taskId: string;
  offerId?: string;
  leaseId?: string;
}

export interface RepoGroupView {
  id: string;
  repo: string;
  description: string;
  /** The repo's review budget in full, when known (plain text). */
  tooltip?: string;
  contextValue: typeof TREE_ITEM_KINDS.repo;
  items: TreeItemView[];
}

/** A task's scheduling facts: "docs · tier 0 · effort 2 · docs, ts". */
export function taskFacts(task: Pick<Task, 'area' | 'tier' | 'effort' | 'skills'>): string {
  const parts = [task.area ?? 'no area', `tier ${task.tier}`, `effort ${task.effort}`];
  if (task.skills.length > 0) parts.push(task.skills.join(', '));
  return parts.join(' · ');
}

/** The issue in a tooltip: every outside string escaped, links only to http(s). */
export function taskTooltip(task: Task, extra: string[] = []): string {
  const lines: string[] = [];
  lines.push(`**${escapeMarkdown(task.id)}** · ${escapeMarkdown(task.repo)}`);
  lines.push('');
  lines.push(`**${escapeMarkdown(task.title)}**`);
  const issueUrl = safeHttpUrl(task.issue?.url);
  if (task.issue && issueUrl) lines.push('', `Issue [#${task.issue.number}](${issueUrl})`);
  lines.push('', `${escapeMarkdown(taskFacts(task))}`);
  if (task.body.trim()) lines.push('', '---', '', escapeMarkdownBlock(task.body));
  if (task.acceptance.length > 0) {
    lines.push('', '**Acceptance criteria**', '');
    for (const item of task.acceptance.slice(0, 20)) lines.push(`- ${escapeMarkdown(item)}`);
  }
  if (extra.length > 0) lines.push('', '---', '', ...extra.map((e) => `${e}  `));
  return lines.join('\n');
}

function offerItem(offer: Offer, now: number): TreeItemView {
  const left = formatRemaining(offer.deadline_at - now);
  return {
    id: `offer:${offer.offer_id}`,
    label: `${offer.task.id} ${offer.task.title}`,
    description: `offer · ${left} to accept · ${taskFacts(offer.task)}`,
    tooltip: taskTooltip(offer.task, [`Offered to you: accept within ${escapeMarkdown(left)} or it moves on to another volunteer.`]),
    contextValue: TREE_ITEM_KINDS.offer,
    icon: 'bell-dot',
    taskId: offer.task_id,
    offerId: offer.offer_id,
  };
}

function listedItem(task: Task): TreeItemView {
  return {
    id: `task:${task.id}`,
    label: `${task.id} ${task.title}`,
    description: taskFacts(task),
    tooltip: taskTooltip(task, ['Ready: claim it to start (the same checks as an offer apply).']),
    contextValue: TREE_ITEM_KINDS.task,
    icon: 'issues',
    taskId: task.id,
  };
}

/**
 * Whether this worker could claim the task as far as it can tell: skills covered and trust high
 * enough. (Capacity, area locks and the review budget are checked by the coordinator on claim.)
 */
export function couldClaim(task: Pick<Task, 'skills' | 'tier'>, worker: Pick<Worker, 'skills' | 'trust'> | undefined): boolean {
  if (!worker) return true;
  return task.tier <= worker.trust && task.skills.every((skill) => worker.skills.includes(skill));
}

/** "Offers & tasks": per repo, this window's offers first, then the ready tasks it could claim, by priority. */
export function offersTree(snapshot: PoolSnapshot, now: number): RepoGroupView[] {
  if (snapshot.state === 'not-joined') return [];
  const held = new Set(snapshot.leases.map((l) => l.task_id));
  const offered = new Set(snapshot.offers.map((o) => o.task_id));
  const byRepo = new Map<string, { offers: TreeItemView[]; tasks: Task[] }>();
  const group = (repo: string) => {
    let entry = byRepo.get(repo);
    if (!entry) byRepo.set(repo, (entry = { offers: [], tasks: [] }));
    return entry;
  };
  for (const offer of [...snapshot.offers].sort((a, b) => a.deadline_at - b.deadline_at)) {
    if (offer.deadline_at > now) group(offer.repo).offers.push(offerItem(offer, now));
  }
  for (const task of snapshot.listed) {
    if (held.has(task.id) || offered.has(task.id) || task.state !== 'ready' || !couldClaim(task, snapshot.worker)) continue;
    group(task.repo).tasks.push(task);
  }
  return [...byRepo.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([repo, entry]) => {
      const tasks = entry.tasks.sort((a, b) => b.priority - a.priority || a.created_at - b.created_at).map(listedItem);
      const counts = [entry.offers.length > 0 ? `${entry.offers.length} offer${entry.offers.length === 1 ? '' : 's'}` : '', tasks.length > 0 ? `${tasks.length} ready` : ''].filter(Boolean);
      const budget = snapshot.budgets.get(repo);
      if (budget) counts.push(formatReservedBudget(budget));
      return {
        id: `repo:${repo}`, repo, description: counts.join(' · '), contextValue: TREE_ITEM_KINDS.repo, items: [...entry.offers, ...tasks],
        ...(budget ? { tooltip: `${repo} review budget: ${formatBudget(budget, now)}` } : {}),
      };
    });
}

/** Local facts about a task being worked on in this window (kept by the glue per workspace). */
export interface WorkNote {
  branch?: string;
  checkoutPath?: string;
  /** Set while Submit PR runs. */
  busy?: string;
  prUrl?: string;
}

const STATE_LABELS: Record<string, string> = {
  leased: 'leased',
  in_progress: 'in progress',
  pr_opened: 'PR opened',
};

/** "My work": this window's leases with state, the lease's hard deadline and, apart, the heartbeat's health. */
export function workItems(snapshot: PoolSnapshot, notes: Readonly<Record<string, WorkNote>>, now: number): TreeItemView[] {
  return [...snapshot.leases]
    .sort((a, b) => a.granted_at - b.granted_at)
    .map((lease) => {
      const task = snapshot.tasks.get(lease.task_id);
      const note = notes[lease.task_id] ?? {};
      const state = note.busy ?? STATE_LABELS[task?.state ?? 'leased'] ?? task?.state ?? 'leased';
      const deadline = formatLeaseDeadline(lease.max_deadline_at, now);
      const heartbeat = formatHeartbeat(lease.expires_at, heartbeatTimeoutOf(lease), now);
      const extra = [
        `Lease ${escapeMarkdown(lease.lease_id)} · ${escapeMarkdown(deadline)} · ${escapeMarkdown(heartbeat)}`,
        note.branch ? `Branch \`${note.branch.replace(/`/g, '')}\`` : 'No branch yet: run Open in AI Tool to check out and start.',
      ];
      return {
        id: `lease:${lease.lease_id}`,
        label: `${lease.task_id} ${task?.title ?? ''}`.trim(),
        description: `${state} · ${deadline}${heartbeat === 'heartbeat ok' ? '' : ` · ${heartbeat}`}`,
        tooltip: task ? taskTooltip(task, extra) : extra.join('  \n'),
        contextValue: note.busy ? TREE_ITEM_KINDS.leaseBusy : TREE_ITEM_KINDS.lease,
        icon: note.busy ? 'loading~spin' : 'tools',
        taskId: lease.task_id,
        leaseId: lease.lease_id,
      };
    });
}

/** This window's capacity points: taken by its leases and by its open offers alike, as the scheduler counts them. */
export function capacityFigures(snapshot: PoolSnapshot, now: number): CapacityFigures | undefined {
  const worker = snapshot.worker;
  if (!worker) return undefined;
  const leased = snapshot.leases.reduce((sum, lease) => sum + (snapshot.tasks.get(lease.task_id)?.effort ?? 1), 0);
  const offered = snapshot.offers.filter((o) => o.deadline_at > now).reduce((sum, o) => sum + o.task.effort, 0);
  return { capacity: worker.capacity, leased, offered };
}

/** Capacity points not taken by this window's leases and open offers. */
export function freeCapacity(snapshot: PoolSnapshot, now: number): number | undefined {
  const figures = capacityFigures(snapshot, now);
  return figures ? Math.max(0, figures.capacity - figures.leased - figures.offered) : undefined;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
}

const STATE_TEXT: Record<SessionState, string> = {
  'not-joined': 'not joined',
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  disconnected: 'offline',
};

export function statusBarView(snapshot: PoolSnapshot, now: number): StatusBarView {
  const state = snapshot.state;
  if (state === 'not-joined') return { text: '$(circle-slash) OWP', tooltip: 'OWP: not in the pool. Click to open the OWP view and join.' };
  const icon = state === 'connected' ? '$(broadcast)' : state === 'disconnected' ? '$(debug-disconnect)' : '$(sync~spin)';
  const figures = capacityFigures(snapshot, now);
  const capacity = figures ? formatCapacity(figures) : '';
  const running = [...snapshot.leases].sort((a, b) => a.max_deadline_at - b.max_deadline_at)[0];
  const lease = running ? `${running.task_id} ${formatLeaseDeadline(running.max_deadline_at, now)}` : '';
  const offers = snapshot.offers.filter((o) => o.deadline_at > now).length;
  const parts = [state === 'connected' ? '' : STATE_TEXT[state], lease, capacity, offers > 0 ? `${offers} offer${offers === 1 ? '' : 's'}` : ''].filter(Boolean);
  const tooltip = [
    `OWP: ${STATE_TEXT[state]} to ${snapshot.coordinatorUrl ?? 'the coordinator'}`,
    snapshot.worker && figures ? `Worker ${snapshot.worker.id} (${snapshot.worker.github_login}), capacity ${formatCapacityDetail(figures)}` : '',
    running ? `Running lease ${running.lease_id} on ${running.task_id}: ${formatLeaseDeadline(running.max_deadline_at, now)} · ${formatHeartbeat(running.expires_at, heartbeatTimeoutOf(running), now)}` : 'No running lease',
  ].filter(Boolean);
  return { text: `${icon} OWP${parts.length ? ` ${parts.join(' · ')}` : ''}`, tooltip: tooltip.join('\n') };
}

/** The badge on the OWP view: the open offers waiting for an answer, or none. */
export function offersBadge(snapshot: PoolSnapshot, now: number): { value: number; tooltip: string } | undefined {
  const open = snapshot.offers.filter((o) => o.deadline_at > now).length;
  return open > 0 ? { value: open, tooltip: `${open} open OWP offer${open === 1 ? '' : 's'} waiting for your answer` } : undefined;
}

/** The document a click on a task opens: its details and issue text, every outside string escaped (the tooltip's Markdown). */
export function taskDetailsMarkdown(task: Task): string {
  return taskTooltip(task);
}

/** The offer notification: what, where, how big, and until when. */
export function offerNotificationText(offer: Offer, now: number): string {
  const task = offer.task;
  return `OWP offer: ${task.id} “${plainText(task.title, 120)}” in ${task.repo} (${taskFacts(task)}). Accept within ${formatRemaining(offer.deadline_at - now)}.`;
}
