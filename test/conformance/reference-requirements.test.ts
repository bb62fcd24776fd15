/**
 * Requirements the conformance kit cannot observe over the wire, checked on the reference
 * coordinator from the inside: what is on disk (SEC-002, DUR-001), what survives a restart
 * (DUR-002, HB-003), failing storage (DUR-003), what no operation ever asks for (SEC-001) and the
 * repo policy hook (MATCH-004). conformance/reference-coverage.ts points here for each id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS } from '../../protocol/operations.ts';
import { MemoryStore } from '../../coordinator/store/memory.ts';
import type { Store } from '../../coordinator/store/store.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { HttpClient } from '../../client/http-client.ts';
import { OwpError } from '../../protocol/errors.ts';
import { GATES, startPool, until } from '../helpers/coordinator.ts';

const PROFILE = { skills: ['docs'], capacity: 3, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true } };

function filesUnder(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

test('SEC-001: no operation asks for GitHub credentials or any password or token field', () => {
  const names: string[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const properties = (node as { properties?: Record<string, unknown> }).properties;
    if (properties) names.push(...Object.keys(properties));
    for (const value of Object.values(node)) walk(value);
  };
  for (const d of Object.values(OPERATIONS)) walk(JSON.parse(JSON.stringify(d.params)));
  const suspicious = names.filter((n) => /token|password|secret|credential|oauth|github_pat/i.test(n));
  assert.deepEqual(suspicious, []);
});

test('SEC-002 and DUR-001: an acknowledged change is on disk before the ack, and tokens are stored only as hashes', async () => {
  const pool = await startPool('lowdb');
  try {
    const { worker, token: workerToken } = await WorkerClient.register(pool.url, { github_login: 'hashed', ...PROFILE });
    const { token: maintainerToken } = await pool.admin.call('maintainer.create', { name: 'docs team', repos: ['acme/*'] });
    await pool.repo('acme/site');
    const taskId = await pool.task('acme/site');
    // DUR-001: right after the ack, before any snapshot or shutdown, the journal on disk has it.
    const onDisk = filesUnder(pool.dataDir as string);
    assert.ok(onDisk.includes(taskId) && onDisk.includes(worker.id), 'the acknowledged task and worker are not on disk yet');
    await pool.coordinator.close();
    const everything = filesUnder(pool.dataDir as string);
    for (const token of [workerToken, maintainerToken, pool.adminToken]) assert.ok(!everything.includes(token), 'a token is stored in clear');
  } finally {
    await pool.close();
  }
});

test('DUR-002: after a restart every acknowledged task, lease, lock, budget unit and idempotency record is there', async () => {
  const pool = await startPool('lowdb');
  try {
    await pool.repo('acme/site', { heartbeat_timeout_ms: 60_000, max_open_prs: 3 });
    const { token } = await WorkerClient.register(pool.url, { github_login: 'durable', ...PROFILE });
    const w = new HttpClient({ baseUrl: pool.url, token });
    const created = await pool.admin.call('task.create', { repo: 'acme/site', title: 'kept', area: 'docs', idempotency_key: 'create-kept' });
    const prTask = await pool.task('acme/site', { area: 'api' });
    const { lease } = await w.call('task.claim', { task_id: created.task.id });
    const second = await w.call('task.claim', { task_id: prTask });
    await w.call('lease.report', { lease_id: second.lease.lease_id, epoch: second.lease.epoch, state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/1', gates: GATES } });
    await pool.restart();
    const admin = new HttpClient({ baseUrl: pool.url, token: pool.adminToken });
    const { task } = await admin.call('task.get', { task_id: created.task.id });
    assert.equal(task.state, 'leased');
    assert.equal(task.lease?.lease_id, lease.lease_id);
    const repo = await admin.call('repo.get', { repo: 'acme/site' });
    assert.deepEqual(repo.locks, { docs: created.task.id, api: prTask });
    assert.equal(repo.budget.open_prs + repo.budget.live_leases, 2);
    const replay = await admin.call('task.create', { repo: 'acme/site', title: 'kept', area: 'docs', idempotency_key: 'create-kept' });
    assert.equal(replay.task.id, created.task.id, 'the idempotency record did not survive the restart');
  } finally {
    await pool.close();
  }
});

test('HB-003: after a restart every live lease gets a fresh heartbeat window', async () => {
  const pool = await startPool('lowdb');
  try {
    await pool.repo('acme/site', { heartbeat_timeout_ms: 5000 });
    const { token } = await WorkerClient.register(pool.url, { github_login: 'returning', ...PROFILE });
    const taskId = await pool.task('acme/site');
    const { lease } = await new HttpClient({ baseUrl: pool.url, token }).call('task.claim', { task_id: taskId });
    const restartedAt = Date.now();
    await pool.restart();
    const { task } = await new HttpClient({ baseUrl: pool.url, token: pool.adminToken }).call('task.get', { task_id: taskId });
    assert.equal(task.lease?.lease_id, lease.lease_id);
    assert.ok((task.lease?.expires_at ?? 0) >= restartedAt + 5000, `expires_at ${task.lease?.expires_at} is not a fresh window after the restart at ${restartedAt}`);
  } finally {
    await pool.close();
  }
});

/** A memory store whose writes can be made to fail, as a full or broken disk would. */
class FailingStore extends MemoryStore implements Store {
  failing = false;
  override async append(events: Parameters<Store['append']>[0]): Promise<void> {
    if (this.failing) throw new Error('ENOSPC: no space left on device');
    return super.append(events);
  }
  override async probe(): Promise<void> {
    if (this.failing) throw new Error('ENOSPC: no space left on device');
    return super.probe();
  }
}

test('DUR-003: when changes cannot be made durable, mutations are refused with UNAVAILABLE and nothing is acknowledged', async () => {
  const store = new FailingStore();
  const pool = await startPool('memory', { store });
  try {
    await pool.repo('acme/site');
    store.failing = true;
    const refused = await pool.admin.call('task.create', { repo: 'acme/site', title: 'lost' }).catch((e: unknown) => e);
    assert.ok(refused instanceof OwpError && refused.code === 'UNAVAILABLE', `expected UNAVAILABLE, got ${String(refused)}`);
    const again = await pool.admin.call('task.create', { repo: 'acme/site', title: 'lost too' }).catch((e: unknown) => e);
    assert.ok(again instanceof OwpError && again.code === 'UNAVAILABLE');
    store.failing = false;
    // Once storage works again the coordinator reloads what is on disk: the refused changes are not there.
    await until(() => !pool.coordinator.runtime.isDegraded(), 'the coordinator leaves degraded mode');
    const { tasks } = await pool.admin.call('task.list', { repo: 'acme/site' });
    assert.deepEqual(tasks.map((t) => t.title), [], 'an unacknowledged task is visible');
  } finally {
    await pool.close();
  }
});

test('MATCH-004: a repo policy refusal blocks the claim with POLICY_DENIED naming the rule', async () => {
  const pool = await startPool('memory', {
    policy: ({ task, worker }) => (task.tier === 0 && worker.trust === 0 && task.skills.includes('infra') ? { code: 'policy', message: 'infra tasks need a vouched worker', details: { rule: 'infra-needs-trust' } } : null),
  });
  try {
    await pool.repo('acme/site');
    const taskId = await pool.task('acme/site', { skills: ['infra'] });
    const { token } = await WorkerClient.register(pool.url, { github_login: 'newcomer', ...PROFILE, skills: ['infra'] });
    const refused = await new HttpClient({ baseUrl: pool.url, token }).call('task.claim', { task_id: taskId }).catch((e: unknown) => e);
    assert.ok(refused instanceof OwpError && refused.code === 'POLICY_DENIED', `expected POLICY_DENIED, got ${String(refused)}`);
    assert.equal(refused.details?.rule, 'infra-needs-trust');
  } finally {
    await pool.close();
  }
});
