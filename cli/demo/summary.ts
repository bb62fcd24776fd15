/**
 * The demo's ending: whether every task a volunteer here can do is done, and the closing summary
 * read back from the journal alone (so what it says is what was recorded, not what we hoped).
 */
import type { JournalEvent } from '../../protocol/journal-events.ts';
import { DEMO_REPO } from '../../coordinator/seed.ts';
import type { HttpClient } from '../../client/http-client.ts';
import type { Output } from '../output.ts';
import type { JournalStory } from './journal-story.ts';
import { listAll } from '../../protocol/list-pages.ts';

export async function allDoableDone(admin: HttpClient): Promise<boolean> {
  const tasks = await listAll((p) => admin.call('task.list', p), 'task.list', { repo: DEMO_REPO, limit: 1000 });
  if (tasks.some((task) => ['offered', 'leased', 'in_progress', 'pr_opened'].includes(task.state))) return false;
  for (const task of tasks.filter((x) => x.state === 'ready')) {
    const why = await admin.call('task.explain', { task_id: task.id });
    if (why.eligible_workers > 0) return false;
  }
  return true;
}

export async function readWholeJournal(admin: HttpClient): Promise<JournalEvent[]> {
  const events: JournalEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await admin.call('journal.read', { after_seq: after, limit: 1000 });
    events.push(...page.events);
    if (page.events.length < 1000) return events;
    after = page.events[page.events.length - 1]!.seq;
  }
}

export async function explainLeftovers(admin: HttpClient, story: JournalStory): Promise<string[]> {
  const lines: string[] = [];
  for (const [taskId, state] of Object.entries(story.final_states)) {
    if (state !== 'ready' && state !== 'blocked') continue;
    const why = await admin.call('task.explain', { task_id: taskId });
    const reason = why.reasons[0]?.message ?? state;
    lines.push(`${taskId} stays ${state}: ${reason}`);
  }
  return lines;
}

export function printSummary(out: Output, story: JournalStory, names: Map<string, string>, leftovers: string[], journalFile: string, kept: boolean): void {
  const c = out.colors;
  const name = (id: string): string => names.get(id) ?? id;
  const row = (key: string, value: string): void => out.block(`  ${c.bold(key.padEnd(11))} ${value}`);
  row('journal', `${story.events} events${kept ? ` in ${journalFile}` : ''}`);
  row('tasks', `${story.tasks_created} created · ${Object.values(story.final_states).filter((s) => s === 'merged').length} merged · ${leftovers.length} left`);
  row('leases', `${story.leases_granted} granted · ${story.leases_expired} expired · ${story.leases_released} released`);
  row('requeues', story.requeues.length ? story.requeues.map((r) => `${r.task_id}: ${name(r.from_worker)} → ${name(r.to_worker)}`).join(', ') : 'none');
  row('PRs', `${story.prs_opened} opened · ${story.prs_merged} merged · by ${Object.entries(story.prs_by_worker).map(([w, n]) => `${name(w)} ${n}`).join(', ')}`);
  row('budget', `peak ${story.budget_peak}/${story.max_open_prs ?? '?'} (open PRs + live leases + offers) · full ${story.throttle_hits} time(s)${story.max_open_prs !== undefined && story.budget_peak <= story.max_open_prs ? ', never over' : c.red(' — OVER the limit')}`);
  row('area locks', `${story.lock_waits.length} task(s) waited for their area: ${story.lock_waits.slice(0, 6).map((w) => `${w.task_id} behind ${w.holder} (${w.area})`).join(', ')}${story.lock_waits.length > 6 ? ', …' : ''}`);
  for (const line of leftovers) row('', c.dim(line));
}
