/**
 * The demo's running commentary, read off the coordinator's journal as it is written: leases
 * (and the requeue after the kill), PRs with their gates, merges, expiries; and after every batch
 * the review budget (full / room again) and the tasks an area lock holds back.
 */
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Principal } from '../../coordinator/auth.ts';
import type { Result } from '../../protocol/operations.ts';
import { DEMO_REPO } from '../../coordinator/seed.ts';
import type { Started } from '../../coordinator/server.ts';
import type { DemoScene } from './scene.ts';

/** Narrates the journal from now on; returns the function that stops it. */
export function followJournal(scene: DemoScene, runtime: Started['coordinator']['runtime'], adminPrincipal: Principal): () => void {
  const { c } = scene;
  const expiredFrom = new Map<string, string>();
  const announcedWaits = new Set<string>();
  let throttled = false;
  let checking = false;
  let recheck = false;

  const checkBudgetAndLocks = async (): Promise<void> => {
    if (checking) {
      recheck = true;
      return;
    }
    checking = true;
    try {
      do {
        recheck = false;
        const repo = await runtime.call(adminPrincipal, 'repo.get', { repo: DEMO_REPO });
        const ready = await runtime.call(adminPrincipal, 'task.list', { repo: DEMO_REPO, state: 'ready', limit: 1000 });
        if (!repo.ok || !ready.ok) return;
        const view = repo.data as Result<'repo.get'>;
        const readyTasks = (ready.data as Result<'task.list'>).tasks;
        const b = view.budget;
        const used = b.open_prs + b.live_leases + b.open_offers;
        if (used >= b.max_open_prs && !throttled) {
          throttled = true;
          scene.say(c.red('budget'), `${c.red('full')} ${used}/${b.max_open_prs}: ${b.open_prs} open PRs + ${b.live_leases} live leases + ${b.open_offers} offers → max_open_prs holds new offers back`, { budget: b });
        } else if (used < b.max_open_prs && throttled) {
          throttled = false;
          scene.say(c.green('budget'), `room again: ${used}/${b.max_open_prs} in use`, { budget: b });
        }
        for (const task of readyTasks) {
          const holder = task.area ? view.locks[task.area] : undefined;
          if (!holder || holder === task.id || announcedWaits.has(`${task.id}:${holder}`)) continue;
          announcedWaits.add(`${task.id}:${holder}`);
          scene.say(c.yellow('lock  '), `${scene.label(task.id)} waits: area ${c.bold(task.area!)} is locked by ${holder}`, { task_id: task.id, area: task.area, holder });
        }
      } while (recheck);
    } finally {
      checking = false;
    }
  };

  const onJournal = (events: JournalEvent[]): void => {
    for (const e of events) {
      if (e.repo !== undefined && e.repo !== DEMO_REPO) continue;
      switch (e.type) {
        case 'lease.granted': {
          const from = expiredFrom.get(e.task_id);
          if (from && from !== e.worker_id) {
            expiredFrom.delete(e.task_id);
            if (scene.killed && from === scene.killed.workerId) scene.requeuedAfterKill = true;
            scene.say(scene.who(e.worker_id), `${c.green('↻ requeued:')} ${scene.label(e.task_id)} moves from ${scene.nameOf(from)} to ${scene.nameOf(e.worker_id)} (lease ${e.data.lease_id}, epoch ${e.data.epoch})`, { task_id: e.task_id, from, to: e.worker_id });
          } else {
            scene.say(scene.who(e.worker_id), `leased ${scene.label(e.task_id)} (${e.data.lease_id}, epoch ${e.data.epoch})`, { task_id: e.task_id, worker_id: e.worker_id });
          }
          break;
        }
        case 'pr.opened': {
          scene.prsOpened += 1;
          const pr = e.data.pr;
          const gates = pr.gates.map((g) => `${g.name} ${g.passed ? c.green('✓') : c.red('✗')}`).join(' ');
          scene.say(scene.who(e.worker_id), `${c.green('opened PR')} #${pr.number ?? '?'} for ${scene.label(e.task_id)} · ${gates}`, { task_id: e.task_id, pr: pr.url });
          break;
        }
        case 'task.merged':
          scene.merged += 1;
          scene.say(c.blue('maint '), `merged the PR for ${scene.label(e.task_id)} into main → its budget unit and area lock are free`, { task_id: e.task_id });
          break;
        case 'lease.expired':
          expiredFrom.set(e.task_id, e.worker_id);
          scene.say(c.red('lease '), `${c.red('expired:')} no heartbeat from ${scene.nameOf(e.worker_id)} on ${scene.label(e.task_id)} → back to ${e.data.to} (attempt ${e.data.attempts})`, { task_id: e.task_id, worker_id: e.worker_id });
          break;
        case 'lease.released':
          scene.say(scene.who(e.worker_id), `released ${scene.label(e.task_id)}`, { task_id: e.task_id });
          break;
        case 'task.blocked':
          scene.say(c.red('block '), `${scene.label(e.task_id)} blocked: ${e.data.reason}`, { task_id: e.task_id });
          break;
        case 'worker.disconnected':
          if (scene.killed && e.worker_id === scene.killed.workerId) scene.say(scene.who(e.worker_id), c.red('is offline (its socket dropped with the process)'));
          break;
        default:
          break;
      }
    }
    void checkBudgetAndLocks();
  };
  runtime.on('journal', onJournal);
  return () => runtime.off('journal', onJournal);
}
