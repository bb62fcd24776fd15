import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createCoordinator } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { tempDir, until } from '../helpers/coordinator.ts';

test('a full disk with a worker connected: the coordinator leaves degraded mode once the disk works again', async () => {
  const dir = tempDir();
  let full = false;
  const store = new LowdbStore(dir, {
    beforeWrite: () => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  const coordinator = await createCoordinator({ store, clock: new SystemClock(), adminTokens: ['owpm_live'], sweepIntervalMs: 50 });
  const url = await coordinator.listen(0);
  const admin = new HttpClient({ baseUrl: url, token: 'owpm_live' });
  const { worker, token } = await WorkerClient.register(url, { github_login: 'degraded-volunteer', skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const client = new WorkerClient({ url, token, reconnectionDelayMs: 100, reconnectionDelayMaxMs: 500 });
  try {
    await client.connect();
    await admin.call('repo.configure', { repo: 'live/repo' });
    full = true;
    const refused = await admin.callRaw('task.create', { repo: 'live/repo', title: 'refused', idempotency_key: 'k1' });
    assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
    full = false;
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'recovered with a live socket', 10_000);
    const { workers } = await admin.call('worker.list', {});
    assert.equal(workers.find((w) => w.id === worker.id)?.online, true, 'the connected worker is online again after the reload');
  } finally {
    client.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hello refused while storage fails is retried: the worker connects once the disk works again', async () => {
  const dir = tempDir();
  let full = false;
  const store = new LowdbStore(dir, {
    beforeWrite: () => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  const coordinator = await createCoordinator({ store, clock: new SystemClock(), adminTokens: ['owpm_hello'], sweepIntervalMs: 50 });
  const url = await coordinator.listen(0);
  const admin = new HttpClient({ baseUrl: url, token: 'owpm_hello' });
  const { token } = await WorkerClient.register(url, { github_login: 'hello-retry', skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  // A changed profile makes the hello write an event, which the failing disk refuses.
  const client = new WorkerClient({ url, token, profile: { capacity: 4 }, reconnectionDelayMs: 100, reconnectionDelayMaxMs: 500 });
  try {
    await admin.call('repo.configure', { repo: 'hello/repo' });
    full = true;
    const refused = await admin.callRaw('task.create', { repo: 'hello/repo', title: 'refused', idempotency_key: 'k1' });
    assert.equal(!refused.ok && refused.error.code, 'UNAVAILABLE');
    const refusedHello = new Promise<string>((resolve) => client.once('connect.error', (e) => resolve(e.code)));
    void client.connect().catch(() => undefined);
    assert.equal(await refusedHello, 'UNAVAILABLE');
    full = false;
    await until(() => client.connectionState() === 'connected', 'the client said hello again and got in', 10_000);
    assert.equal(client.worker?.capacity, 4);
  } finally {
    client.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
