/**
 * The volunteer hears when a submitted PR is decided and when their trust changes (issue 16): the
 * session compares each read of `worker.prs` with the one before it; this shows what it found.
 * A merge or a trust rise is good news (information), a close or a trust drop a warning; a PR's
 * notice offers "Open PR" when its link is http(s).
 */
import * as vscode from 'vscode';
import type { SubmittedNotice } from '../client/submitted-prs.ts';
import { plainText, safeHttpUrl } from './logic/markdown.ts';
import type { Services } from './services.ts';

export function watchSubmitted({ session, output }: Services): vscode.Disposable {
  const onNotice = (notice: SubmittedNotice): void => {
    // The text carries titles and reasons from outside: no [label](link) survives plainText.
    const text = plainText(notice.text, 400);
    output.appendLine(`=== ${text}`);
    const good = notice.kind === 'merged' || (notice.kind === 'trust' && notice.to > notice.from);
    const url = notice.kind === 'trust' ? undefined : safeHttpUrl(notice.pr.pr.url);
    const open = 'Open PR';
    const actions = url ? [open] : [];
    const shown = good ? vscode.window.showInformationMessage(text, ...actions) : vscode.window.showWarningMessage(text, ...actions);
    void Promise.resolve(shown).then((picked) => {
      if (picked === open && url) void vscode.env.openExternal(vscode.Uri.parse(url));
    });
  };
  session.on('submitted', onNotice);
  return { dispose: () => session.off('submitted', onNotice) };
}
