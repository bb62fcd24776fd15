/**
 * `owp conformance --client`: checks a worker implementation's side of the protocol. The worker
 * connects to a relay (tap.ts) in front of a coordinator; the kit creates tasks for it in a repo of
 * its own, cancels one, stalls the link until a lease expires, drops the answer to an accept, and
 * judges from what went over the wire whether the worker said hello first, heartbeated in time,
 * accepted within the deadline, stopped on a cancelled or lost lease, kept its granted epoch and
 * retried with the same idempotency key (SPEC §5.15).
 */
import { randomBytes } from 'node:crypto';
import type { Lease, Offer, Task } from '../../protocol/model.ts';
import type { OperationName, Result } from '../../protocol/operations.ts';
import { expectOk } from '../expect.ts';
import { REQUIREMENTS } from '../requirements.ts';
import type { RequirementResult, Status, SuiteReport, TestResult } from '../types.ts';
import { WireHttp } from '../wire.ts';
import { KIT_VERSION } from '../runner.ts';
import { actedAfter, CLIENT_CHECKS, grantedLeases, helloFirst, longestSilence, LOST_CODES, namesLease, wrongEpochs, type ClientRequirement } from './checks.ts';
import { ClientTap, type TappedOp } from './tap.ts';

/** The worker never connected: nothing about it can be judged (exit 3, like an unreachable --url). */
export class ClientSetupError extends Error {}

/** The repo's timings: short enough for a quick run, long enough for a loaded machine. */
export const CLIENT_SETTINGS = { offer_timeout_ms: 10_000, heartbeat_timeout_ms: 3000, max_open_prs: 50, max_new_prs_per_hour: 50, max_attempts: 10, required_gates: ['tests'] } as const;
const HEARTBEAT_TIMEOUT_MS = CLIENT_SETTINGS.heartbeat_timeout_ms;
/** How long after being told a lease ended an operation on it may still arrive (it was on its way). */
const GRACE_MS = HEARTBEAT_TIMEOUT_MS / 6;

export interface ClientRunOptions {
  /** The coordinator behind the relay, and its admin token (the kit creates the repo and tasks). */
  url: string;
  token: string;
  /** Starts the worker under test (or tells a person to): the relay's URL and the repo it works on. */
  start: (relayUrl: string, repo: string) => Promise<void> | void;
  /** How long to wait for the worker's first hello (default 60 s). */
  connectTimeoutMs?: number;
  onResult?: (result: TestResult) => void;
}

export async function runClientSuite(options: ClientRunOptions): Promise<SuiteReport> {
  const started = Date.now();
  const http = new WireHttp(options.url.replace(/\/+$/, ''));
  const admin = async <N extends OperationName>(name: N, params: Record<string, unknown>): Promise<Result<N>> => expectOk<Result<N>>(await http.call(name, params, options.token), `${name} (admin)`);
  const info = expectOk<Result<'coordinator.info'>>(await http.call('coordinator.info', {}), 'coordinator.info');
  const namespace = `owp-conformance-${randomBytes(3).toString('hex')}`;
  const repo = `${namespace}/client`;
  await admin('repo.configure', { repo, ...CLIENT_SETTINGS });
  const tap = new ClientTap(http.baseUrl);
  const relayUrl = await tap.listen();
  const results = new Map<ClientRequirement, { status: Status; message?: string; durationMs: number }>();
  const verdict = (requirement: ClientRequirement, status: Status, message?: string): void => {
    if (results.has(requirement) && results.get(requirement)?.status === 'fail') return;
    results.set(requirement, { status, durationMs: Date.now() - started, ...(message ? { message } : {}) });
  };
  const task = async (title: string): Promise<Task> => (await admin('task.create', { repo, title, body: 'A task the conformance kit made for the worker under test; it is cancelled when the run ends.', skills: [], effort: 1 })).task;
  const getTask = async (id: string): Promise<Task> => (await admin('task.get', { task_id: id })).task;
  const created: string[] = [];
  let workerId = '';

  try {
    await options.start(relayUrl, repo);
    const hello = await tap.when(() => tap.ops.find((o) => o.name === 'session.hello' && o.ack?.ok), 'connect and say hello', options.connectTimeoutMs ?? 60_000).catch((error: Error) => {
      throw new ClientSetupError(`${error.message}: start it with the coordinator URL ${relayUrl} (it serves the repo ${repo}).`);
    });
    workerId = hello.ack?.ok ? ((hello.ack.data as Result<'session.hello'>).worker?.id ?? '') : '';
    if (!workerId) throw new ClientSetupError('the hello was answered, but not as a worker\'s: connect with a worker token (register through the same URL).');

    // Phase 1: an offer whose accept is answered but whose answer is lost with the connection.
    tap.dropAckOnce('offer.accept');
    const first = await task('conformance: accept, heartbeat, cancel');
    created.push(first.id);
    const handed = await tap.when(() => tap.notifications.find((n) => (n.name === 'offer.created' && (n.payload.offer as Offer).task_id === first.id) || (n.name === 'lease.granted' && (n.payload.lease as Lease | undefined)?.task_id === first.id)), 'receive an offer (or, having negotiated direct-leases, a lease)', 15_000);
    if (handed.name === 'lease.granted') {
      // A worker that negotiated direct-leases (OFFER-011) is granted leases without offers: there is
      // no accept to time, nor an accept answer to drop. The rest is judged on the granted lease.
      tap.keepAck('offer.accept');
      const why = 'the worker negotiated direct-leases (accept_offers: auto), so it was granted its leases without offers and sent no offer.accept; connect it to a coordinator that does not declare direct-leases to judge this';
      verdict('CLIENT-003', 'skip', why);
      verdict('CLIENT-007', 'skip', why);
      const lease = await leaseOf(first.id);
      if (!lease) {
        for (const id of ['CLIENT-002', 'CLIENT-004'] as const) verdict(id, 'skip', 'the worker holds no lease of the task it was granted');
      } else {
        await heartbeated(lease, handed.deliveredAt);
        await cancelled(lease, first.id);
      }
    }
    const offered = handed.name === 'offer.created' ? handed : undefined;
    const offer = (offered?.payload.offer ?? {}) as Offer;
    const accepts = () => tap.ops.filter((o) => o.name === 'offer.accept' && o.params.offer_id === offer.offer_id);
    const accepted = offered ? await tap.when(() => accepts()[0], 'accept the offer (is it set to accept offers automatically?)', offer.deadline_at - offer.created_at + 5000).catch(() => undefined) : undefined;
    if (!offered) {
      // judged above, on the directly granted lease
    } else if (!accepted) verdict('CLIENT-003', 'fail', `no offer.accept for ${offer.offer_id} within the offer deadline (${offer.deadline_at - offer.created_at} ms)`);
    else if (accepted.receivedAt - offered.deliveredAt > offer.deadline_at - offer.created_at) verdict('CLIENT-003', 'fail', `offer.accept arrived ${accepted.receivedAt - offered.deliveredAt} ms after the offer, past its ${offer.deadline_at - offer.created_at} ms deadline`);
    else verdict('CLIENT-003', 'pass');
    const lease = accepted ? await leaseOf(first.id) : undefined;
    if (accepted) {
      // The dropped answer: the worker reconnects; a retry must repeat the key.
      const retry = await tap.when(() => accepts()[1], 'retry the accept', 15_000).catch(() => undefined);
      const key = accepted.params.idempotency_key;
      if (!retry) verdict('CLIENT-007', 'skip', 'the worker did not retry offer.accept after the lost answer (it may have resumed the lease from hello), so there was no retry to compare');
      else if (retry.params.idempotency_key !== key || typeof key !== 'string') verdict('CLIENT-007', 'fail', `offer.accept was retried with idempotency key ${JSON.stringify(retry.params.idempotency_key)} after ${JSON.stringify(key)}`);
      else verdict('CLIENT-007', 'pass');
    }
    if (!offered) {
      // judged above, on the directly granted lease
    } else if (!lease) {
      for (const id of ['CLIENT-002', 'CLIENT-004'] as const) verdict(id, 'skip', 'the worker holds no lease of the offered task');
    } else {
      await heartbeated(lease, (accepted as TappedOp).receivedAt);
      await cancelled(lease, first.id);
    }

    // Phase 2: the link goes silent until the lease expires (the expiry's notification is lost with
    // it), then the connection drops; the worker learns of the loss from its next hello or refusal.
    const second = await task('conformance: a lease lost on a dead link, then leased again');
    created.push(second.id);
    const lost = await leaseOf(second.id);
    if (!lost) {
      verdict('CLIENT-005', 'skip', 'the worker took no second lease to lose');
    } else {
      await admin('repo.configure', { repo, paused: true });
      await afterHeartbeat(lost);
      tap.stall();
      const cutAt = Date.now();
      await until(async () => (await getTask(second.id)).lease?.lease_id !== lost.lease_id, `lease ${lost.lease_id} expired`, HEARTBEAT_TIMEOUT_MS + 10_000).finally(() => tap.cut());
      const told = await tap.when(() => toldLost(lost.lease_id, cutAt), 'reconnect and say hello (or send anything for the lost lease)', 30_000).catch(() => undefined);
      if (told === undefined) {
        verdict('CLIENT-005', 'skip', `the worker neither said hello again nor sent anything for ${lost.lease_id} after the connection dropped`);
      } else {
        await sleep(HEARTBEAT_TIMEOUT_MS);
        const before = new Set(tap.ops.filter((o) => o.receivedAt <= told && typeof o.params.idempotency_key === 'string').map((o) => o.params.idempotency_key));
        // A request sent before the loss and retried with its key is an answer being fetched, not new work.
        const after = actedAfter(tap, lost.lease_id, told, GRACE_MS).filter((o) => !before.has(o.params.idempotency_key));
        if (after.length > 0) verdict('CLIENT-005', 'fail', `${after.length} operation(s) on ${lost.lease_id} after the worker was told it had lost the lease: ${after.slice(0, 3).map((o) => `${o.name} ${o.receivedAt - told} ms later`).join(', ')}`);
        else verdict('CLIENT-005', 'pass');
      }
      await admin('repo.configure', { repo, paused: false });
      // The same task leased again: a new lease with the next epoch.
      await leaseOf(second.id, lost.lease_id);
    }
    const epochs = wrongEpochs(tap);
    if (grantedLeases(tap).size === 0) verdict('CLIENT-006', 'skip', 'the worker was granted no lease');
    else verdict('CLIENT-006', epochs ? 'fail' : 'pass', epochs);
    const early = helloFirst(tap);
    verdict('CLIENT-001', early ? 'fail' : 'pass', early);
  } catch (error) {
    if (error instanceof ClientSetupError) throw error;
    // Whatever was still to be judged cannot be passed: the run stopped on the way.
    for (const c of CLIENT_CHECKS) if (!results.has(c.requirement)) verdict(c.requirement, 'fail', `the run stopped before this was judged: ${(error as Error).message}`);
  } finally {
    for (const id of created) await http.call('task.cancel', { task_id: id, reason: 'conformance cleanup' }, options.token).catch(() => undefined);
    await http.call('repo.configure', { repo, paused: true }, options.token).catch(() => undefined);
    await tap.close();
  }
  return report();

  /** Watches the lease for two and a half heartbeat timeouts from its grant: no silence may be longer than one (CLIENT-002). */
  async function heartbeated(lease: Lease, grantedAt: number): Promise<void> {
    await sleep(Math.max(0, grantedAt + 2.5 * HEARTBEAT_TIMEOUT_MS - Date.now()));
    const silence = longestSilence(tap, lease, grantedAt, Date.now());
    const now = await getTask(lease.task_id);
    if (silence > HEARTBEAT_TIMEOUT_MS || now.lease?.lease_id !== lease.lease_id) verdict('CLIENT-002', 'fail', `${silence} ms passed without a heartbeat of ${lease.lease_id} (heartbeat timeout ${HEARTBEAT_TIMEOUT_MS} ms, interval ${lease.heartbeat_interval_ms} ms); the task is ${now.state}${now.lease?.lease_id === lease.lease_id ? '' : ' and the lease ended'}`);
    else verdict('CLIENT-002', 'pass');
  }

  /** Cancels the task right after a heartbeat, then watches whether the worker keeps acting on the lease. */
  async function cancelled(lease: Lease, taskId: string): Promise<void> {
    await afterHeartbeat(lease);
    await admin('task.cancel', { task_id: taskId, reason: 'conformance: the worker must stop' });
    const told = await tap.when(() => tap.notifications.find((n) => n.name === 'lease.cancelled' && n.payload.lease_id === lease.lease_id), 'receive lease.cancelled', 5000).catch(() => undefined);
    if (!told) return verdict('CLIENT-004', 'skip', 'the coordinator sent no lease.cancelled (the lease had already ended)');
    await sleep(HEARTBEAT_TIMEOUT_MS);
    const after = actedAfter(tap, lease.lease_id, told.deliveredAt, GRACE_MS);
    if (after.length > 0) verdict('CLIENT-004', 'fail', `${after.length} operation(s) on ${lease.lease_id} after lease.cancelled: ${after.slice(0, 3).map((o) => `${o.name} ${o.receivedAt - told.deliveredAt} ms later`).join(', ')}`);
    else verdict('CLIENT-004', 'pass');
  }

  /** Waits until the worker holds a lease of the task (other than `not`) and was handed it, then for its first heartbeat. */
  async function leaseOf(taskId: string, not?: string): Promise<Lease | undefined> {
    const held = await until(async () => {
      const t = await getTask(taskId);
      return t.lease?.worker_id === workerId && t.lease.lease_id !== not ? t.lease : undefined;
    }, `the worker holds task ${taskId}`, CLIENT_SETTINGS.offer_timeout_ms + 10_000).catch(() => undefined);
    if (!held) return undefined;
    const lease = await tap.when(() => grantedLeases(tap).get(held.lease_id), 'receive its lease', 15_000).catch(() => undefined);
    if (lease) await tap.when(() => tap.ops.find((o) => o.name === 'lease.heartbeat' && o.params.lease_id === lease.lease_id), 'heartbeat', HEARTBEAT_TIMEOUT_MS).catch(() => undefined);
    return lease;
  }

  /** Resolves when the answer to a new heartbeat of the lease reached the worker: nothing of it is in flight then. */
  async function afterHeartbeat(lease: Lease): Promise<void> {
    const seen = tap.ops.length;
    await tap.when(() => (tap.ops.slice(seen).some((o) => o.name === 'lease.heartbeat' && o.params.lease_id === lease.lease_id && o.ackDeliveredAt) ? true : undefined), 'heartbeat', HEARTBEAT_TIMEOUT_MS).catch(() => undefined);
  }

  /** When the worker was first told, after `since`, that it no longer holds the lease: a refusal, or a hello without it. */
  function toldLost(leaseId: string, since: number): number | undefined {
    const times = tap.ops
      .filter((o) => o.receivedAt > since && o.ackDeliveredAt !== undefined && o.ack?.ok === false && namesLease(o, leaseId) && LOST_CODES.has(o.ack.error.code))
      .map((o) => o.ackDeliveredAt as number);
    for (const o of tap.ops) {
      if (o.receivedAt <= since || o.name !== 'session.hello' || !o.ack?.ok || o.ackDeliveredAt === undefined) continue;
      const leases = (o.ack.data as Result<'session.hello'>).leases ?? [];
      if (!leases.some((l) => l.lease_id === leaseId)) times.push(o.ackDeliveredAt);
    }
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  function report(): SuiteReport {
    const tests: TestResult[] = CLIENT_CHECKS.map((c) => {
      const r = results.get(c.requirement) ?? { status: 'skip' as const, message: 'not reached', durationMs: 0 };
      const level = REQUIREMENTS.find((q) => q.id === c.requirement)?.level ?? 'MUST';
      const status = r.status === 'fail' && level !== 'MUST' ? 'warn' : r.status;
      return { area: 'client', requirement: c.requirement, title: c.title, level, status, durationMs: r.durationMs, ...(r.message ? { message: r.message } : {}) };
    });
    for (const t of tests) options.onResult?.(t);
    const requirements: RequirementResult[] = REQUIREMENTS.filter((q) => q.id.startsWith('CLIENT-')).map((q) => {
      const t = tests.find((x) => x.requirement === q.id);
      return { ...q, status: t ? t.status : 'untested', tests: t ? 1 : 0 };
    });
    const summary = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const t of tests) summary[t.status] += 1;
    return { kit: KIT_VERSION, url: relayUrl, coordinator: { name: String(info.name), protocol_version: String(info.protocol_version), capabilities: info.capabilities ?? [] }, level: 'MAY', startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, namespace, tests, requirements, summary };
  }
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
