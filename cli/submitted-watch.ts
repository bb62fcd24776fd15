/**
 * `owp worker` hears what the extension's notifications say (issue 16): when a PR this worker
 * opened is merged or closed, and when its trust changes. It reads `worker.prs` at start (the
 * baseline: old outcomes are not news) and again after each `tasks.changed` hint, which the
 * coordinator also sends after a trust change; what changed between two reads comes from
 * client/submitted-prs.ts, the same as in VS Code.
 */
import type { HttpClient } from '../client/http-client.ts';
import { readSubmitted, submittedNotices, type SubmittedRead } from '../client/submitted-prs.ts';
import type { WorkerClient } from '../client/worker-client.ts';
import type { Output } from './output.ts';

export function watchSubmitted(client: WorkerClient, http: HttpClient, out: Output, debounceMs = 500): () => void {
  let before: SubmittedRead | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const read = async (): Promise<void> => {
    let now: SubmittedRead;
    try {
      now = await readSubmitted((params) => http.call('worker.prs', params));
    } catch {
      // An older coordinator without worker.prs, or a blip: the next hint reads again.
      return;
    }
    if (stopped) return;
    for (const notice of submittedNotices(before, now)) {
      const text = notice.text.replace(/^OWP: /, '');
      const data = notice.kind === 'trust' ? { kind: 'trust', from: notice.from, to: notice.to } : { kind: notice.kind, task_id: notice.pr.task_id, pr: notice.pr.pr.url };
      if (notice.kind === 'merged' || (notice.kind === 'trust' && notice.to > notice.from)) out.success(text, data);
      else out.warn(text, data);
      out.event('submitted', data);
    }
    before = now;
  };
  const onChanged = (): void => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void read();
    }, debounceMs);
    timer.unref?.();
  };
  client.on('tasks.changed', onChanged);
  void read();
  return () => {
    stopped = true;
    clearTimeout(timer);
    client.off('tasks.changed', onChanged);
  };
}
