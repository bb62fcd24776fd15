/**
 * The volunteer hears about their PR's CI checks: a warning for each required check that fails
 * (with "Open check"), one when CI misses its deadline, and, when the PR counts, the draft is
 * marked ready for review with the volunteer's own GitHub token (never prompting: without a
 * saved token or a silent sign-in they are told to press the button on GitHub).
 */
import * as vscode from 'vscode';
import { markCountedReady } from '../client/checks-wait.ts';
import { githubTokenWithoutAsking } from './github-auth.ts';
import { countedNotice, failureNotices } from './logic/checks-items.ts';
import { safeHttpUrl } from './logic/markdown.ts';
import type { PoolSessionEvents } from './logic/pool-session.ts';
import type { Services } from './services.ts';
import { readSettings } from './settings.ts';

async function offerLink(show: Thenable<string | undefined>, action: string, url: string | undefined): Promise<void> {
  if ((await show) === action && url) await vscode.env.openExternal(vscode.Uri.parse(url));
}

export function watchChecks({ session, output, context }: Services): vscode.Disposable {
  const onChecks = ({ payload, before }: PoolSessionEvents['pr.checks'][0]): void => {
    const title = before?.title ?? '';
    output.appendLine(`=== ${payload.task_id}: CI checks ${payload.checks.status} on ${payload.pr.url}: ${payload.checks.checks.map((c) => `${c.name} ${c.status}`).join(', ')}`);
    for (const notice of failureNotices(before, payload, title)) {
      const open = 'Open check';
      void offerLink(vscode.window.showWarningMessage(notice.text, ...(notice.url ? [open] : [])), open, notice.url);
    }
    if (payload.checks.timed_out_at !== undefined && before?.checks?.timed_out_at === undefined) {
      void vscode.window.showWarningMessage(`OWP: CI did not finish on the PR for ${payload.task_id} before the checks deadline. It still counts once the checks pass; keep this window open so the lease stays yours.`);
    }
  };
  const onCounted = async (payload: PoolSessionEvents['pr.counted'][0]): Promise<void> => {
    // Merged before its checks passed: nothing to mark ready, and My work announces the merge itself.
    if (payload.pr.evidence === 'maintainer') {
      output.appendLine(`=== ${countedNotice(payload, 'was-ready')}`);
      return;
    }
    const apiUrl = readSettings().githubApiUrl;
    let ready: Parameters<typeof countedNotice>[1] = 'no-token';
    // The token saved for this host, decoded from its binding (never the stored bundle itself).
    const token = await githubTokenWithoutAsking(context.secrets, apiUrl);
    if (token) {
      try {
        ready = (await markCountedReady(payload.pr, { token, apiBaseUrl: apiUrl })).changed ? 'marked' : 'was-ready';
      } catch (error) {
        ready = { failed: (error as Error).message };
      }
    }
    const text = countedNotice(payload, ready);
    output.appendLine(`=== ${text}`);
    const open = 'Open PR';
    await offerLink(vscode.window.showInformationMessage(text, open), open, safeHttpUrl(payload.pr.url));
  };
  const counted = (payload: PoolSessionEvents['pr.counted'][0]): void => void onCounted(payload);
  session.on('pr.checks', onChecks);
  session.on('pr.counted', counted);
  return { dispose: () => { session.off('pr.checks', onChecks); session.off('pr.counted', counted); } };
}
