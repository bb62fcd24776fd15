/**
 * The shapes the conformance kit is made of: requirements (from SPEC.md), tests that cite them,
 * and the results a run produces.
 */
import type { World } from './world.ts';

export type Level = 'MUST' | 'SHOULD' | 'MAY';

export interface Requirement {
  /** The id in bold in SPEC.md, e.g. `LEASE-003`. */
  readonly id: string;
  /** The strongest RFC 2119 keyword in the requirement's text (MUST when it has none: its sentence is part of a MUST). */
  readonly level: Level;
  /** The SPEC.md section it is in, e.g. `§5.5`. */
  readonly section: string;
  readonly title: string;
}

export interface ConformanceTest {
  /** The requirement this test checks; one id per test so a failure names exactly what broke. */
  readonly requirement: string;
  readonly title: string;
  /** Defaults to the requirement's level; lower when the test checks the SHOULD part of a MUST requirement. */
  readonly level?: Level;
  /** Runs only when the implementation declares this capability (SPEC §9.1, CAP-001); then it is mandatory. */
  readonly capability?: string;
  /** Returns a reason to skip when the implementation's declared setup makes the test not apply. */
  readonly appliesTo?: (world: World) => string | undefined;
  readonly timeoutMs?: number;
  run(world: World): Promise<void>;
}

/** A group of tests by area (one file in conformance/suites/). */
export interface Suite {
  readonly area: string;
  readonly tests: readonly ConformanceTest[];
}

export type Status = 'pass' | 'fail' | 'warn' | 'skip';

export interface TestResult {
  readonly area: string;
  readonly requirement: string;
  readonly title: string;
  readonly level: Level;
  readonly status: Status;
  readonly durationMs: number;
  readonly message?: string;
}

export interface RequirementResult extends Requirement {
  readonly status: Status | 'untested';
  readonly tests: number;
  /** For requirements the kit cannot observe over the wire: where the reference implementation checks it. */
  readonly coveredBy?: string;
}

export interface SuiteReport {
  readonly kit: string;
  readonly url: string;
  readonly coordinator: { name: string; protocol_version: string; capabilities: string[] };
  readonly level: Level;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly namespace: string;
  readonly tests: readonly TestResult[];
  readonly requirements: readonly RequirementResult[];
  readonly summary: { pass: number; fail: number; warn: number; skip: number };
}

export const LEVEL_RANK: Record<Level, number> = { MUST: 0, SHOULD: 1, MAY: 2 };
