/**
 * Runs the conformance suites against an implementation at a URL: reads `coordinator.info`,
 * checks the maintainer token, then runs each selected test in its own world (fresh repos,
 * workers and a unique skill), a few at a time, each under a timeout, and aggregates the results
 * per requirement id.
 */
import { randomBytes } from 'node:crypto';
import type { Result } from '../protocol/operations.ts';
import { REQUIREMENTS } from './requirements.ts';
import { REFERENCE_COVERAGE } from './reference-coverage.ts';
import { ALL_SUITES } from './suites.ts';
import { LEVEL_RANK, type ConformanceTest, type Level, type RequirementResult, type Status, type Suite, type SuiteReport, type TestResult } from './types.ts';
import { WireHttp } from './wire.ts';
import { World, type KitGitHub, type RunContext } from './world.ts';

export const KIT_VERSION = 'owp-conformance 0.1';

export interface RunOptions {
  url: string;
  /** A maintainer token scoped to `*` (the coordinator's admin token). */
  token: string;
  /** Run tests of this level and stronger (default MAY: everything). */
  level?: Level;
  /** Run only these requirement ids (or id prefixes such as `LEASE`). */
  only?: readonly string[];
  concurrency?: number;
  invite?: string;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  suites?: readonly Suite[];
  /** The kit's GitHub-shaped server, for a coordinator that syncs a repo from it (capability github-sync). */
  github?: KitGitHub;
  onResult?: (result: TestResult) => void;
}

export class SetupError extends Error {}

const REQUIREMENT_BY_ID = new Map(REQUIREMENTS.map((r) => [r.id, r]));

export function levelOf(test: ConformanceTest): Level {
  return test.level ?? REQUIREMENT_BY_ID.get(test.requirement)?.level ?? 'MUST';
}

export async function runSuite(options: RunOptions): Promise<SuiteReport> {
  const started = Date.now();
  const url = options.url.replace(/\/+$/, '');
  const http = new WireHttp(url, options.requestTimeoutMs ?? 10_000);
  let infoAck;
  try {
    infoAck = await http.call('coordinator.info', {});
  } catch (error) {
    throw new SetupError(`Cannot reach an OWP coordinator at ${url} (${(error as Error).message}). Check --url and that it is running.`);
  }
  if (!infoAck.ok) throw new SetupError(`GET ${url}/v1/info did not answer coordinator.info (${infoAck.error.code}: ${infoAck.error.message}).`);
  const info = infoAck.data as Result<'coordinator.info'>;
  // An admin operation on a worker that cannot exist: an admin token gets NOT_FOUND and nothing changes.
  const probe = await http.call('worker.set_trust', { worker_id: 'W-999999999999', trust: 0 }, options.token);
  if (!probe.ok && probe.error.code !== 'NOT_FOUND') {
    throw new SetupError(`The --token was refused (${probe.error.code}: ${probe.error.message}). Pass a maintainer token scoped to "*" (the coordinator's admin token): the kit sets trust and revokes its own workers.`);
  }

  const run: RunContext = {
    url,
    adminToken: options.token,
    namespace: `owp-conformance-${randomBytes(3).toString('hex')}`,
    info,
    ...(options.invite ? { invite: options.invite } : {}),
    timeoutMs: options.requestTimeoutMs ?? 10_000,
    counter: 0,
    repos: [],
    ...(options.github ? { github: options.github } : {}),
  };
  const level = options.level ?? 'MAY';
  const capabilities = Array.isArray(info.capabilities) ? info.capabilities : [];
  const selected = (options.suites ?? ALL_SUITES).flatMap((suite) => suite.tests.map((test) => ({ area: suite.area, test })));
  const results: TestResult[] = [];
  const position = new Map<TestResult, number>();
  const queue: Array<{ area: string; test: ConformanceTest; index: number }> = [];

  for (const [index, item] of selected.entries()) {
    const testLevel = levelOf(item.test);
    const base = { area: item.area, requirement: item.test.requirement, title: item.test.title, level: testLevel, durationMs: 0 };
    if (options.only && options.only.length > 0 && !options.only.some((id) => item.test.requirement === id || item.test.requirement.startsWith(`${id}-`) || item.area === id)) continue;
    if (LEVEL_RANK[testLevel] > LEVEL_RANK[level]) {
      push({ ...base, status: 'skip', message: `below --level ${level.toLowerCase()}` }, index);
    } else if (item.test.capability && !capabilities.includes(item.test.capability)) {
      push({ ...base, status: 'skip', message: `capability "${item.test.capability}" not declared` }, index);
    } else {
      queue.push({ ...item, index });
    }
  }

  function push(result: TestResult, index: number): void {
    results.push(result);
    position.set(result, index);
    options.onResult?.(result);
  }

  const workers = Array.from({ length: Math.max(1, options.concurrency ?? 4) }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) push(await runOne(run, item.area, item.test), item.index);
  });
  await Promise.all(workers);

  // Leave nothing behind that could take work: pause every repo the run created.
  for (const repo of run.repos) await http.call('repo.configure', { repo, paused: true }, options.token).catch(() => undefined);

  results.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  const summary = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of results) summary[r.status] += 1;
  return {
    kit: KIT_VERSION,
    url,
    coordinator: { name: String(info.name), protocol_version: String(info.protocol_version), capabilities },
    level,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    namespace: run.namespace,
    tests: results,
    requirements: aggregate(results),
    summary,
  };
}

async function runOne(run: RunContext, area: string, test: ConformanceTest): Promise<TestResult> {
  const level = levelOf(test);
  const world = new World(run);
  const started = Date.now();
  const base = { area, requirement: test.requirement, title: test.title, level };
  const skipReason = test.appliesTo?.(world);
  if (skipReason) return { ...base, status: 'skip', durationMs: 0, message: skipReason };
  let status: Status = 'pass';
  let message: string | undefined;
  const timeoutMs = test.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      test.run(world),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the test did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    status = level === 'MUST' ? 'fail' : 'warn';
    message = (error as Error).message ?? String(error);
  } finally {
    clearTimeout(timer);
    await Promise.race([world.cleanup().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  return { ...base, status, durationMs: Date.now() - started, ...(message ? { message } : {}) };
}

const SEVERITY: Record<Status, number> = { fail: 3, warn: 2, pass: 1, skip: 0 };

export function aggregate(results: readonly TestResult[]): RequirementResult[] {
  return REQUIREMENTS.map((req) => {
    const mine = results.filter((r) => r.requirement === req.id);
    const coveredBy = REFERENCE_COVERAGE[req.id]?.file;
    if (mine.length === 0) return { ...req, status: 'untested' as const, tests: 0, ...(coveredBy ? { coveredBy } : {}) };
    const worst = mine.reduce((a, r) => (SEVERITY[r.status] > SEVERITY[a] ? r.status : a), 'skip' as Status);
    return { ...req, status: worst, tests: mine.length, ...(coveredBy ? { coveredBy } : {}) };
  });
}

/** Requirement ids whose status is fail (what a defective implementation breaks). */
export function failedRequirements(report: SuiteReport): string[] {
  return report.requirements.filter((r) => r.status === 'fail').map((r) => r.id);
}
