/**
 * What an engine is built from: its clock, an optional state to start from, the policy hooks and
 * the deployment's choices (registration, archiving, advertised capabilities).
 */
import type { Reasoned, RepoSettings } from '../../protocol/model.ts';
import type { Clock } from '../clock.ts';
import type { State } from '../state/state.ts';
import type { EligibilityTask } from './eligibility.ts';
import type { WorkerRecord } from '../state/records.ts';
import type { IdempotencyLimits } from '../state/idempotency-keys.ts';

/** What a policy rule may look at: the task (only what eligibility reads), the worker, the repo and the state. */
export interface PolicyContext {
  task: EligibilityTask;
  worker: WorkerRecord;
  repo: RepoSettings;
  state: State;
}

/** A policy hook: returns a refusal (naming its rule) or null. Repo policy-as-code plugs in here. */
export type PolicyCheck = (ctx: PolicyContext) => Reasoned | null;

/** One policy rule's verdict for a task and a worker (task.explain with worker_id). */
export interface PolicyVerdict {
  rule: string;
  passed: boolean;
  message: string;
  /** The rule is in report mode: a verdict that did not pass would refuse, but does not. */
  mode?: 'report';
}

/** Every policy rule's verdict, for the dry run and for recording what rules in report mode would refuse; `policy` gives the scheduler the first refusal. */
export type PolicyExplain = (ctx: PolicyContext) => PolicyVerdict[];

export interface EngineOptions {
  clock: Clock;
  state?: State;
  policy?: PolicyCheck;
  explainPolicy?: PolicyExplain;
  registration?: 'open' | 'closed';
  invites?: readonly string[];
  /** How long finished tasks stay in the live state before they are archived. */
  archiveAfterMs?: number;
  capabilities?: readonly string[];
  name?: string;
  /** How many idempotency keys (and bytes of their answers) are kept at most within their 24 h; default DEFAULT_IDEMPOTENCY_LIMITS. */
  idempotencyLimits?: IdempotencyLimits;
}
