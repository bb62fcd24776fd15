/**
 * Ticks the first-time walkthrough's steps from the pool session's state (extension/logic/walkthrough.ts
 * says why its completion events alone miss a volunteer who joined before opening it). Each step
 * is marked once per window; an editor without the Welcome page's command just does not tick.
 */
import * as vscode from 'vscode';
import { EXTERNAL_COMMANDS } from './constants.ts';
import { walkthroughStepId, walkthroughStepsDone, type WalkthroughStep } from './logic/walkthrough.ts';
import type { Services } from './services.ts';

export function tickWalkthrough({ session, notes, context }: Services, workView: vscode.TreeView<unknown>): vscode.Disposable {
  const marked = new Set<WalkthroughStep>();
  let workViewShown = workView.visible;
  const update = (): void => {
    const snapshot = session.snapshot();
    // A task handed to the AI tool has its branch noted (work-commands.ts startWork).
    const handedOff = snapshot.leases.some((l) => notes.get(l.task_id).branch !== undefined);
    for (const step of walkthroughStepsDone(snapshot, { handedOff, workViewShown })) {
      if (marked.has(step)) continue;
      marked.add(step);
      void vscode.commands.executeCommand(EXTERNAL_COMMANDS.markStepComplete, walkthroughStepId(context.extension.id, step)).then(undefined, () => undefined);
    }
  };
  session.on('changed', update);
  const subscriptions = [
    notes.onDidChange(update),
    workView.onDidChangeVisibility((e) => {
      workViewShown ||= e.visible;
      update();
    }),
  ];
  update();
  return {
    dispose: () => {
      session.off('changed', update);
      for (const s of subscriptions) s.dispose();
    },
  };
}
