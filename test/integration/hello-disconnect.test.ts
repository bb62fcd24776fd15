import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { io as connectSocket } from 'socket.io-client';
import { createCoordinator } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { LowdbStore } from '../../coordinator/store/lowdb.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import { tempDir, until } from '../helpers/coordinator.ts';

test('a socket that disconnects while its hello is being written does not leave its worker online', async () => {
  const dir = tempDir();
  let hold = false;
  let release: (() => void) | undefined;
  let held: (() => void) | undefined;
  const store = new LowdbStore(dir, {
    beforeWrite: async () => {
      if (!hold) return;
      held?.();
      await new Promise<void>((resolve) => (release = resolve));
    },
  });
  const coordinator = await createCoordinator({ store, clock: new SystemClock(), adminTokens: ['owpm_hello'], sweepIntervalMs: 50 });
  const url = await coordinator.listen(0);
  const admin = new HttpClient({ baseUrl: url, token: 'owpm_hello' });
  const { worker, token } = await WorkerClient.register(url, { github_login: 'hello-dropper', skills: ['docs'], capacity: 1, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } });
  const socket = connectSocket(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    hold = true;
    const writing = new Promise<void>((resolve) => (held = resolve));
    // The profile changes capacity, so the hello writes a worker.updated event before it marks the worker online.
    socket.emit('session.hello', { protocol_version: PROTOCOL_VERSION, profile: { capacity: 2 } }, () => undefined);
    await writing;
    socket.disconnect();
    await until(() => coordinator.io.sockets.sockets.size === 0, 'the coordinator saw the disconnect');
    hold = false;
    release?.();
    await coordinator.runtime.whenIdle();
    await new Promise((r) => setTimeout(r, 200)); // let the hello handler run to its end
    await coordinator.runtime.whenIdle();
    const { workers } = await admin.call('worker.list', {});
    assert.equal(workers.find((w) => w.id === worker.id)?.online, false, 'no live socket, so the worker is offline');
    assert.equal(coordinator.runtime.liveSockets.get(worker.id), undefined, 'no live socket is counted for it');
  } finally {
    socket.close();
    release?.();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
