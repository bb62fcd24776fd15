/**
 * The webhook endpoint faces strangers: an unsigned request is refused before its body is read, a
 * signed body is limited to 1 MB, a captured delivery resent under a new delivery id (the id is not
 * signed) is ignored, and at most MAX_CONCURRENT_DELIVERIES are handled at once.
 * Broken variants: reading the body first (the old handler buffered up to 25 MB from anyone);
 * deduplicating on the delivery id alone (the replay under a new id is processed again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { sign } from '@octokit/webhooks-methods';
import { MAX_CONCURRENT_DELIVERIES, MAX_WEBHOOK_BODY_BYTES } from '../../coordinator/github/webhooks.ts';
import { WEBHOOK_SECRET, startGitHubPool } from '../helpers/github-pool.ts';
import { until } from '../helpers/coordinator.ts';

/** Sends headers and `sent` bytes of a body declared `declared` long; resolves with the status once answered. */
function partial(url: string, headers: Record<string, string>, declared: number, sent: number): { status: Promise<number>; abort: () => void } {
  const { hostname, port } = new URL(url);
  const req = request({ hostname, port, path: '/webhooks/github', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(declared), ...headers } });
  const status = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
  });
  req.write(Buffer.alloc(sent, 0x20));
  return { status, abort: () => req.destroy() };
}

test('webhooks: unsigned requests are refused unread, bodies are capped, replays under a new id are ignored, deliveries are capped', async () => {
  const g = await startGitHubPool();
  try {
    const url = g.pool.url;
    // Unsigned: refused while most of a 20 MB body was never sent.
    const unsigned = partial(url, { 'x-github-event': 'issues', 'x-github-delivery': 'u-1' }, 20 * 1024 * 1024, 1024);
    assert.equal(await unsigned.status, 401);
    unsigned.abort();

    const big = `{"pad":"${'x'.repeat(MAX_WEBHOOK_BODY_BYTES)}"}`;
    const tooBig = await fetch(`${url}/webhooks/github`, { method: 'POST', body: big, headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'big-1', 'x-hub-signature-256': await sign(WEBHOOK_SECRET, big) } });
    assert.equal(tooBig.status, 413);

    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const headers = { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-hub-signature-256': await sign(WEBHOOK_SECRET, body) };
    const first = await fetch(`${url}/webhooks/github`, { method: 'POST', body, headers: { ...headers, 'x-github-delivery': 'd-1' } });
    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { data: { duplicate?: boolean } }).data.duplicate, undefined);
    const replay = await fetch(`${url}/webhooks/github`, { method: 'POST', body, headers: { ...headers, 'x-github-delivery': 'd-2-forged' } });
    assert.equal(((await replay.json()) as { data: { duplicate?: boolean } }).data.duplicate, true, 'the same signed bytes under a fresh id count once');

    // Deliveries that never finish sending hold their slots; the next one is refused at once.
    const signature = await sign(WEBHOOK_SECRET, 'never sent');
    const held = Array.from({ length: MAX_CONCURRENT_DELIVERIES }, (_, i) => partial(url, { 'x-github-event': 'ping', 'x-github-delivery': `slow-${i}`, 'x-hub-signature-256': signature }, 1000, 10));
    // The slots are taken once the coordinator has seen each request's headers: an unsigned probe is
    // answered 401 while a slot is free (and frees it at once), 503 once all are held.
    const probe = async (): Promise<number> => (await fetch(`${url}/webhooks/github`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status;
    await until(async () => (await probe()) === 503, 'the held deliveries fill every slot');
    const refused = await fetch(`${url}/webhooks/github`, { method: 'POST', body, headers: { ...headers, 'x-github-delivery': 'd-3' } });
    assert.equal(refused.status, 503);
    for (const h of held) h.abort();
  } finally {
    await g.close();
  }
});
