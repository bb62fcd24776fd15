/**
 * One factory for tests: a real coordinator on an ephemeral port (real HTTP, real socket.io), on
 * either store, with an admin HTTP client and helpers to join workers. Swap the store to run the
 * same suite on memory and lowdb.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinator, type Coordinator, type CoordinatorOptions } from '../../coordinator/app.ts';
import { SystemClock } from '../../coordinator/clock.ts';
import { newToken } from '../../coordinator/auth.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import { LowdbStore, type StoreIo } from '../../coordinator/store/lowdb.ts';
import type { Store } from '../../coordinator/store/store.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient, type WorkerProfile } from '../../client/worker-client.ts';
import type { Params } from '../../protocol/operations.ts';

export type StoreKind = 'memory' | 'lowdb';
export const STORE_KINDS: StoreKind[] = ['memory', 'lowdb'];

export interface TestPool {
  coordinator: Coordinator;
  url: string;
  admin: HttpClient;
  adminToken: string;
  store: Store;
  dataDir: string | undefined;
  workers: WorkerClient[];
  /** Registers and connects a worker. */
  join(profile?: Partial<WorkerProfile>, options?: { trust?: number; autoHeartbeat?: boolean }): Promise<WorkerClient & { token: string }>;
  repo(repo: string, settings?: Partial<Params<'repo.configure'>>): Promise<void>;
  task(repo: string, fields?: Partial<Params<'task.create'>>): Promise<string>;
  /** Restarts the coordinator on the same store (same data dir for lowdb). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

let loginCounter = 0;

export const NO_REGISTRATION_LIMITS = { register: { per_second: 0, burst: 0 }, register_total: { per_second: 0, burst: 0 } };

export function tempDir(prefix = 'owp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startPool(kind: StoreKind = 'memory', overrides: Partial<CoordinatorOptions> = {}): Promise<TestPool> {
  const dataDir = kind === 'lowdb' ? tempDir() : undefined;
  const makeStore = (): Store => (kind === 'lowdb' ? new LowdbStore(dataDir as string) : memory);
  const memory = new MemoryStore();
  const adminToken = newToken('maintainer');
  let store = makeStore();
  // Tests register workers by the dozen from one address, so worker.register's own limit is off here;
  // test/integration/registration-flood.test.ts runs with the defaults.
  const options = (): CoordinatorOptions => ({ store, clock: new SystemClock(), adminTokens: [adminToken], sweepIntervalMs: 50, ...overrides, rateLimits: { ...NO_REGISTRATION_LIMITS, ...overrides.rateLimits } });
  let coordinator = await createCoordinator(options());
  let url = await coordinator.listen(0);
  const port = Number(new URL(url).port);

  const pool: TestPool = {
    coordinator,
    url,
    admin: new HttpClient({ baseUrl: url, token: adminToken }),
    adminToken,
    store,
    dataDir,
    workers: [],
    async join(profile = {}, opts = {}) {
      loginCounter += 1;
      const full: WorkerProfile = {
        github_login: `volunteer${loginCounter}`,
        skills: ['docs'],
        capacity: 3,
        tools: ['none'],
        capabilities: { can_run_tests: true, can_open_prs: true },
        ...profile,
      };
      const { worker, token } = await WorkerClient.register(pool.url, full);
      if (opts.trust !== undefined) await pool.admin.call('worker.set_trust', { worker_id: worker.id, trust: opts.trust });
      const client = new WorkerClient({ url: pool.url, token, reconnectionDelayMs: 100, reconnectionDelayMaxMs: 500, ...(opts.autoHeartbeat === false ? { autoHeartbeat: false } : {}) });
      await client.connect();
      pool.workers.push(client);
      return Object.assign(client, { token });
    },
    async repo(repo, settings = {}) {
      await pool.admin.call('repo.configure', { repo, ...settings });
    },
    async task(repo, fields = {}) {
      const { task } = await pool.admin.call('task.create', { repo, title: fields.title ?? 'A task', ...fields });
      return task.id;
    },
    async restart() {
      await coordinator.close();
      store = makeStore();
      pool.store = store;
      coordinator = await createCoordinator(options());
      url = await coordinator.listen(port);
      pool.coordinator = coordinator;
      pool.url = url;
    },
    async close() {
      for (const w of pool.workers) w.close();
      await coordinator.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return pool;
}

/** A coordinator on a lowdb store in `dir` (with a test I/O layer, if given) and an admin client: for storage tests that restart on the same files. */
export async function startOnDisk(dir: string, options: { io?: StoreIo; adminToken?: string; overrides?: Partial<CoordinatorOptions> } = {}): Promise<{ coordinator: Coordinator; url: string; admin: HttpClient }> {
  const adminToken = options.adminToken ?? 'owpm_on_disk';
  const coordinator = await createCoordinator({ store: new LowdbStore(dir, options.io ? { io: options.io } : {}), clock: new SystemClock(), adminTokens: [adminToken], sweepIntervalMs: 50, ...options.overrides });
  const url = await coordinator.listen(0);
  return { coordinator, url, admin: new HttpClient({ baseUrl: url, token: adminToken }) };
}

/** Waits until predicate returns a truthy value, polling; fails with the message after timeoutMs. */
export async function until<T>(predicate: () => T | Promise<T>, message: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function nextOffer(worker: WorkerClient, timeoutMs = 5000): Promise<import('../../protocol/model.ts').Offer> {
  const existing = [...worker.offers.values()][0];
  if (existing) return Promise.resolve(existing);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off('offer', onOffer);
      reject(new Error(`no offer for ${worker.worker?.id} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onOffer = (offer: import('../../protocol/model.ts').Offer): void => {
      clearTimeout(timer);
      resolve(offer);
    };
    worker.once('offer', onOffer);
  });
}

export const GATES = [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0 }];
