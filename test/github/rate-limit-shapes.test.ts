/**
 * Rate limits as GitHub's docs describe them, not only as the throttling plugin recognizes them:
 * a secondary limit is "a 403 or 429 response", its message need not say "secondary rate"
 * (GitHub has answered "You have triggered an abuse detection mechanism" and a bare "Too many
 * requests"); the client honours Retry-After, then X-RateLimit-Reset, else waits a minute. A 403
 * that is a permission refusal is not a rate limit.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unrecognizedRateLimitWaitMs } from '../../coordinator/github/octokit.ts';
import type { Task } from '../../protocol/model.ts';
import { REPO, startGitHubPool } from '../helpers/github-pool.ts';

async function taskCount(g: Awaited<ReturnType<typeof startGitHubPool>>): Promise<number> {
  return ((await g.pool.admin.call('task.list', { repo: REPO })) as { tasks: Task[] }).tasks.length;
}

describe('rate limits without the words "secondary rate"', () => {
  for (const [status, message] of [
    [429, 'Too many requests'],
    [403, 'You have triggered an abuse detection mechanism. Please wait a few minutes before you try again.'],
  ] as const) {
    test(`a ${status} "${message.slice(0, 30)}…" with Retry-After is waited out and the request sent again`, async () => {
      const g = await startGitHubPool();
      try {
        g.gh.state.addIssue(REPO, { title: 'Patience', labels: ['owp'] });
        g.gh.state.secondaryRateLimit(1, 1, { status, message });
        await g.poll();
        assert.ok(g.gh.state.requests.some((r) => r.status === status), `GitHub answered ${status} first`);
        assert.equal(await taskCount(g), 1, 'the poll went through after the wait');
        assert.ok(g.logs.some((l) => /rate limited \(secondary\).*retrying in 1 s/.test(l)), g.logs.join('\n'));
      } finally {
        await g.close();
      }
    });
  }

  test('a 429 asking for 20 minutes pauses the client until then: no request, said once', async () => {
    let clock = Date.now();
    const g = await startGitHubPool({ now: () => clock });
    try {
      g.gh.state.addIssue(REPO, { title: 'Later', labels: ['owp'] });
      g.gh.state.secondaryRateLimit(1, 20 * 60, { status: 429, message: 'Too many requests' });
      await g.poll();
      const sent = g.gh.state.requests.length;
      const said = (): number => g.logs.filter((l) => /rate limit is used up until/.test(l)).length;
      assert.equal(said(), 1);
      clock += 5 * 60_000;
      await g.poll();
      await g.poll();
      assert.equal(g.gh.state.requests.length, sent, 'no request while paused');
      assert.equal(said(), 1, 'logged once');
      assert.equal(await taskCount(g), 0);
      clock += 16 * 60_000;
      await g.poll();
      assert.equal(await taskCount(g), 1, 'after the wait the sync goes on');
    } finally {
      await g.close();
    }
  });
});

test('the wait GitHub asks for: Retry-After, else X-RateLimit-Reset (left to the plugin), else a minute; a permission 403 is no limit', () => {
  const err = (status: number, message: string, headers: Record<string, string> = {}): { status: number; message: string; response: { headers: Record<string, string> } } => ({ status, message, response: { headers } });
  assert.equal(unrecognizedRateLimitWaitMs(err(429, 'Too many requests', { 'retry-after': '7' })), 7000);
  assert.equal(unrecognizedRateLimitWaitMs(err(429, 'Too many requests')), 60_000, 'no header: at least a minute');
  assert.equal(unrecognizedRateLimitWaitMs(err(403, 'You have triggered an abuse detection mechanism')), 60_000);
  assert.equal(unrecognizedRateLimitWaitMs(err(403, 'Forbidden', { 'retry-after': '3' })), 3000, 'Retry-After makes any 403 a limit');
  assert.equal(unrecognizedRateLimitWaitMs(err(403, 'Resource not accessible by personal access token')), undefined, 'a permission refusal');
  assert.equal(unrecognizedRateLimitWaitMs(err(404, 'Not Found', { 'retry-after': '3' })), undefined);
  // The plugin's own cases stay the plugin's (it waits until the reset or for Retry-After).
  assert.equal(unrecognizedRateLimitWaitMs(err(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2000' })), undefined);
  assert.equal(unrecognizedRateLimitWaitMs(err(403, 'You have exceeded a secondary rate limit.', { 'retry-after': '3' })), undefined);
});
