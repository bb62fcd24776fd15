/**
 * The demo while it plays: the maintainer merging PRs over time, the status line, the keys the
 * presenter presses (k kill a volunteer, q stop), and the cue for the kill. `playUntil` runs all
 * that until a beat's condition holds or the play is over.
 */
import { DEMO_REPO } from '../../coordinator/seed.ts';
import type { Task } from '../../protocol/model.ts';
import { formatDuration } from '../output.ts';
import type { SimWorker } from './sim-worker.ts';
import { BASE, type DemoScene } from './scene.ts';
import { allDoableDone } from './summary.ts';
import { listAll } from '../../protocol/list-pages.ts';

/** Listens for k / q (on a terminal) and Ctrl-C / SIGTERM; returns the function that stops listening. */
export function listenToPresenter(scene: DemoScene): () => void {
  const onKey = (key: string): void => {
    const k = key.toLowerCase();
    if (k === 'k') {
      const victim = pickVictim(scene, true) ?? pickVictim(scene, false);
      if (victim && !scene.killed) scene.victim ??= { worker: victim, why: 'the presenter pressed k' };
      else if (!victim) scene.out.warn('Nobody holds a task right now; press k again in a moment.');
    } else if (k === 'q' || k === '\u0003') {
      scene.quit = true;
    }
  };
  // Ctrl-C outside raw mode (piped output) still ends with the summary and a clean temp folder.
  const onSigint = (): void => {
    scene.quit = true;
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const input = scene.options.input;
  if (input?.isTTY) {
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onKey);
    input.resume();
  }
  let listening = true;
  return () => {
    if (!listening) return;
    listening = false;
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (input?.isTTY) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
      // A paused terminal still holds the event loop open.
      (input as NodeJS.ReadStream & { unref?: () => void }).unref?.();
    }
    scene.out.status('');
  };
}

/** Someone holding a task; with `requireTakeover`, one whose task another live volunteer could take over. */
export function pickVictim(scene: DemoScene, requireTakeover: boolean): SimWorker | undefined {
  const canTakeOver = (task: Task, victim: SimWorker): boolean =>
    scene.workers.some((w) => w !== victim && w.alive && task.skills.every((s) => w.spec.skills.includes(s)) && w.spec.trust >= task.tier);
  return scene.workers.find((w) => w.alive && [...w.active.values()].some(({ task, phase }) => !requireTakeover || (phase === 'working' && canTakeOver(task, w))));
}

/**
 * Plays (merges, the kill cue, the status line) until `until()` holds or the play is over: every
 * doable task merged (a killed volunteer's lease must have expired too), q, or the time limit.
 */
export async function playUntil(scene: DemoScene, until: () => boolean): Promise<void> {
  const { out, c } = scene;
  const { admin } = scene.stage;
  while (!scene.over && !until()) {
    await sleep(Math.min(250, scene.t(500)));
    await maintainerTick(scene).catch((error: unknown) => out.warn(`maintainer: ${(error as Error).message}`));
    if (!scene.killed && !scene.victim && scene.options.autoKill && scene.prsOpened >= BASE.killAfterPrs) {
      const victim = pickVictim(scene, true);
      if (victim) scene.victim = { worker: victim, why: 'on cue' };
    }
    const budget = await admin.call('repo.get', { repo: DEMO_REPO });
    const used = budget.budget.open_prs + budget.budget.live_leases + budget.budget.open_offers;
    out.status(`${c.dim(`${formatDuration(Date.now() - scene.startedAt)}`)} · budget ${used}/${budget.budget.max_open_prs} · ${scene.prsOpened} PRs opened · ${scene.merged} merged${scene.killed ? '' : ' · press k to kill a volunteer'} · q to stop`);
    if (await allDoableDone(admin)) {
      scene.finished = true;
      if (!scene.killed) out.warn('No volunteer was killed this run (nobody held a task another could take over at the cue).');
      else if (!scene.requeuedAfterKill) out.warn(`${scene.killed.spec.login}'s task expired but nobody else could take it over.`);
    } else if (Date.now() > scene.deadline) {
      scene.timedOut = true;
      out.warn(`The demo did not finish within ${formatDuration(scene.maxDurationMs)}; summarising what happened so far.`);
    }
  }
  if (scene.over) {
    scene.stopListening();
    if (scene.finished) scene.say(c.dim('done  '), 'every task a volunteer here can do is merged');
  }
}

/** The maintainer merges the oldest PR once it has waited for review, one merge per gap. */
async function maintainerTick(scene: DemoScene): Promise<void> {
  const { admin, github } = scene.stage;
  if (Date.now() - scene.lastMergeAt < scene.t(BASE.mergeGapMs)) return;
  const tasks = await listAll((p) => admin.call('task.list', p), 'task.list', { repo: DEMO_REPO, state: 'pr_opened', limit: 1000 });
  const oldest = tasks.filter((task) => task.pr?.number).sort((a, b) => (a.pr!.opened_at ?? 0) - (b.pr!.opened_at ?? 0))[0];
  if (!oldest || Date.now() - (oldest.pr!.opened_at ?? 0) < scene.t(BASE.reviewAfterMs)) return;
  scene.lastMergeAt = Date.now();
  await github.merge(DEMO_REPO, oldest.pr!.number!);
  await admin.call('task.complete', { task_id: oldest.id, outcome: 'merged' });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
