/**
 * Ticks the first-time walkthrough's steps from the pool session's state (extension/logic/walkthrough.ts
 * says why its completion events alone miss a volunteer who joined before opening it). Each step
 * is marked once per window; an editor without the Welcome page's command just does not tick.
 */
import * as vscode from 'vscode';
import { EXTERNAL_COMMANDS } from './constants.ts';
import type { PoolSession } from './logic/pool-session.ts';
import { walkthroughStepId, walkthroughStepsDone, type WalkthroughStep } from './logic/walkthrough.ts';

export function tickWalkthrough(session: PoolSession, extensionId: string): vscode.Disposable {
  const marked = new Set<WalkthroughStep>();
  const update = (): void => {
    for (const step of walkthroughStepsDone(session.snapshot())) {
      if (marked.has(step)) continue;
      marked.add(step);
      void vscode.commands.executeCommand(EXTERNAL_COMMANDS.markStepComplete, walkthroughStepId(extensionId, step)).then(undefined, () => undefined);
    }
  };
  session.on('changed', update);
  update();
  return { dispose: () => session.off('changed', update) };
}
