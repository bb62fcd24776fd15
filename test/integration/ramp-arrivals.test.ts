/**
 * What the connect ramp's heap cap counts (coordinator/server.ts, rampArrivals; heap-settings.ts):
 * workers registered over HTTP count before any of them connects, and each connection counts as
 * it opens and stops counting when it closes, so a fleet that registers first makes a ramp as
 * one that connects does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rampArrivals } from '../../coordinator/server.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { startPool, until } from '../helpers/coordinator.ts';

test('registrations count toward a ramp before their workers connect, and connections on top of them', async () => {
  const pool = await startPool('memory');
  try {
    assert.equal(rampArrivals(pool.coordinator), 0);
    const tokens: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { token } = await WorkerClient.register(pool.url, { github_login: `ramp${i}`, skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
      tokens.push(token);
    }
    assert.equal(rampArrivals(pool.coordinator), 5, 'five registrations, no connection yet');
    const clients = tokens.slice(0, 3).map((token) => new WorkerClient({ url: pool.url, token }));
    await Promise.all(clients.map((c) => c.connect()));
    assert.equal(rampArrivals(pool.coordinator), 8, 'five registered workers and three open connections');
    for (const c of clients) c.close();
    await until(() => rampArrivals(pool.coordinator) === 5, 'closed connections stop counting');
  } finally {
    await pool.close();
  }
});
