/**
 * The OWP data model (SPEC §3). These TypeBox schemas are the single source of truth: the static
 * types below are inferred from them, `protocol/schemas/*.json` are generated from them, and the
 * coordinator validates every inbound payload against them.
 */
import { Type, type Static, type TInteger, type TSchema, type TObject, type TOptional, type TProperties, type ObjectOptions } from '@sinclair/typebox';
import { TASK_STATES } from './states.ts';
import { RepoPolicySchema } from './policy-schema.ts';
import { AREA_NAME_PATTERN } from './contract-schema.ts';

/** Keys an implementation must carry unchanged end to end (SPEC §9.2). */
export const EXTENSION_KEY_PATTERN = '^x_[a-z0-9_]{1,64}$';
export type Extensions = { [key: `x_${string}`]: unknown };

/** An object that refuses unknown keys but accepts and preserves `x_*` extension keys. */
export function Extensible<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, {
    additionalProperties: false,
    patternProperties: { [EXTENSION_KEY_PATTERN]: {} },
    ...options,
  });
}

/** A closed object: unknown keys are refused. */
export function Closed<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** The same fields, each optional (for partial updates). */
export function partial<T extends Record<string, TSchema>>(fields: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };
}

export const EpochMs = Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds.' });
export const RepoId = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}/[A-Za-z0-9_.-]{1,100}$',
  maxLength: 140,
  description: 'A repository as `owner/name`.',
});
export const TaskId = Type.String({ pattern: '^T-[1-9][0-9]{0,11}$', description: 'Coordinator-assigned task id, `T-<n>`.' });
export const WorkerId = Type.String({ pattern: '^W-[1-9][0-9]{0,11}$', description: 'Coordinator-assigned worker id, `W-<n>`.' });
export const OfferId = Type.String({ pattern: '^O-[1-9][0-9]{0,11}$', description: 'Coordinator-assigned offer id, `O-<n>`.' });
export const LeaseId = Type.String({ pattern: '^L-[1-9][0-9]{0,11}$', description: 'Coordinator-assigned lease id, `L-<n>`.' });
export const Epoch = Type.Integer({ minimum: 1, description: 'Monotonic fencing epoch of a task: +1 on every lease grant.' });
export const Skill = Type.String({ pattern: '^[a-z0-9][a-z0-9+#._-]{0,39}$', description: 'A lower-case skill tag such as `docs`, `ts`, `rust`.' });
export const Skills = Type.Array(Skill, { maxItems: 32, uniqueItems: true });
export const Area = Type.String({ pattern: '^[a-z0-9][a-z0-9/._-]{0,63}$', description: 'The component a task touches; one active task per area per repo.' });
export const Tier = Type.Integer({ minimum: 0, maximum: 3, description: 'Risk tier 0 (safest) to 3; a worker needs trust ≥ tier.' });
export const Trust = Type.Integer({ minimum: 0, maximum: 3, description: 'Worker trust level 0 to 3.' });
export const Effort = Type.Integer({ minimum: 1, maximum: 100, description: 'Capacity points a task takes while leased.' });
export const GithubLogin = Type.String({ pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$', description: 'A GitHub login.' });
export const Tool = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,31}$', description: 'An AI tool the worker drives: `copilot`, `cursor`, `claude-code`, `aider`, `none`, …' });
export const TaskStateSchema = Type.Union(TASK_STATES.map((s) => Type.Literal(s)), { description: 'Task state (SPEC §6).' });
export const IdempotencyKey = Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'Printable ASCII, at most 255 characters; kept 24 h.' });
export const Reason = Type.String({ maxLength: 2000 });

export const IssueRef = Closed({
  number: Type.Integer({ minimum: 1 }),
  url: Type.String({ maxLength: 2000 }),
});

export const GateEvidence = Extensible({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', description: 'Gate name: `tests`, `lint`, `checklist`, `setup`, or a repo-defined one.' }),
  passed: Type.Boolean(),
  command: Type.Optional(Type.String({ maxLength: 2000 })),
  exit_code: Type.Optional(Type.Integer()),
  duration_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  summary: Type.Optional(Type.String({ maxLength: 4000 })),
});
export type GateEvidence = Static<typeof GateEvidence>;

export const CommitSha = Type.String({ pattern: '^[0-9a-f]{7,64}$', description: 'A commit sha, lower-case hex.' });
export const CheckName = Type.String({
  minLength: 1,
  maxLength: 255,
  description: 'A CI check as the code host names it: a check run\'s `name` or a commit status\'s `context` (GitHub).',
});
export const CheckStatus = Type.Union([Type.Literal('pending'), Type.Literal('success'), Type.Literal('failure')], {
  description: 'pending (queued, running or not reported yet), success, or failure.',
});
export type CheckStatus = Static<typeof CheckStatus>;

export const PullRequestInfo = Extensible({
  url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
  number: Type.Optional(Type.Integer({ minimum: 1 })),
  branch: Type.Optional(Type.String({ maxLength: 255 })),
  gates: Type.Array(GateEvidence, { maxItems: 32 }),
  opened_at: Type.Optional(EpochMs),
  head_repo: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}/[A-Za-z0-9_.-]{1,100}$',
    maxLength: 140,
    description: 'The repository the head branch lives in (`owner/name`): the task\'s repo, or the volunteer\'s fork. Set by a coordinator that verifies PRs.',
  })),
  head_sha: Type.Optional({ ...CommitSha, description: 'The PR\'s head commit when it was verified. Set by a coordinator that verifies PRs.' }),
  evidence: Type.Optional(Type.Union([Type.Literal('self_reported'), Type.Literal('ci'), Type.Literal('maintainer')], {
    description: 'Set by the coordinator: `ci` when the PR counted because the repo\'s required checks succeeded on its head; `self_reported` when it counted on the worker\'s gate evidence alone; `maintainer` when a maintainer merged it before its required checks succeeded (the merge is their decision).',
  })),
});
export type PullRequestInfo = Static<typeof PullRequestInfo>;

export const CheckView = Closed({
  name: CheckName,
  status: CheckStatus,
  url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2000, description: 'The check\'s page (a check run\'s details_url or html_url, a status\'s target_url).' })),
});
export type CheckView = Static<typeof CheckView>;

/** A PR waiting for the repo's required checks (SPEC §5.5, CHECKS-*). */
export const PrChecks = Closed({
  status: { ...CheckStatus, description: 'success when every required check succeeded on head_sha; failure when one failed; pending otherwise.' },
  head_sha: Type.Optional({ ...CommitSha, description: 'The head commit the checks are read on; a new head restarts the wait.' }),
  checks: Type.Array(CheckView, { maxItems: 32, description: 'One per required check, in the repo\'s order.' }),
  started_at: { ...EpochMs, description: 'When the wait for this head began.' },
  deadline_at: { ...EpochMs, description: 'started_at + the repo\'s checks_timeout_ms: the PR goes back to the volunteer\'s attention if it has not passed by then.' },
  updated_at: EpochMs,
  timed_out_at: Type.Optional({ ...EpochMs, description: 'Set when the deadline passed first: the lease went back to heartbeat mode; the PR still counts once its checks pass.' }),
});
export type PrChecks = Static<typeof PrChecks>;

export const TaskLeaseView = Closed({
  lease_id: LeaseId,
  worker_id: WorkerId,
  epoch: Epoch,
  expires_at: EpochMs,
  max_deadline_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds: the lease\'s hard deadline, heartbeats or not.' })),
});

export const TaskOfferView = Closed({
  offer_id: OfferId,
  worker_id: WorkerId,
  deadline_at: EpochMs,
});

export const Task = Extensible({
  id: TaskId,
  repo: RepoId,
  title: Type.String({ minLength: 1, maxLength: 256 }),
  body: Type.String({ maxLength: 65536 }),
  area: Type.Optional(Area),
  tier: Tier,
  effort: Effort,
  skills: Skills,
  priority: Type.Integer({ minimum: -100, maximum: 100, description: 'Higher is offered first; ties go to the older task.' }),
  acceptance: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50, description: 'Acceptance criteria.' }),
  issue: Type.Optional(IssueRef),
  state: TaskStateSchema,
  attempts: Type.Integer({ minimum: 0 }),
  epoch: Type.Integer({ minimum: 0, description: 'Fencing epoch of the latest lease (0: never leased).' }),
  lease: Type.Optional(TaskLeaseView),
  offer: Type.Optional(TaskOfferView),
  pr: Type.Optional(PullRequestInfo),
  checks: Type.Optional({ ...PrChecks, description: 'While the task\'s PR waits for the repo\'s required checks (and after it counted): their state on its head.' }),
  blocked_reason: Type.Optional(Reason),
  closed_reason: Type.Optional(Reason),
  created_at: EpochMs,
  updated_at: EpochMs,
});
export type Task = Static<typeof Task> & Extensions;

/**
 * The repositories a worker can work on (the clone it runs in): it is offered, and may claim or
 * accept, only tasks of these repos. Absent or empty: any repo (an editor window serves the pool).
 */
export const WorkerRepos = Type.Array(RepoId, { maxItems: 32, uniqueItems: true, description: 'The repos this worker can work on (`owner/name`, compared case-insensitively); absent or empty: any repo.' });

export const WorkerCapabilities = Extensible({
  can_run_tests: Type.Boolean(),
  can_open_prs: Type.Boolean(),
});
export type WorkerCapabilities = Static<typeof WorkerCapabilities>;

/** Offer pipelining (SPEC OFFER-009): how many open offers a worker can hold at once. */
export const MaxOpenOffers = Type.Integer({
  minimum: 1, maximum: 32,
  description: 'How many open offers the worker can hold at once (offer pipelining, SPEC OFFER-009); only for a coordinator that declares the `offer-pipelining` capability. Absent: one.',
});

/**
 * Direct leases (SPEC OFFER-011): a worker that takes every offer it is made says so, and the
 * coordinator grants it the lease where it would have made the offer (no offer, no accept).
 */
export const AcceptOffers = Type.Union([Type.Literal('ask'), Type.Literal('auto')], {
  description: 'How the worker answers offers: `ask` (each offer waits for offer.accept or offer.decline) or `auto` (it takes every task it is eligible for: the coordinator grants the lease directly and pushes lease.granted; direct leases, SPEC OFFER-011). Only for a coordinator that declares the `direct-leases` capability. Absent: ask.',
});

export const Worker = Extensible({
  id: WorkerId,
  github_login: GithubLogin,
  skills: Skills,
  capacity: Effort,
  tools: Type.Array(Tool, { maxItems: 16, uniqueItems: true }),
  capabilities: WorkerCapabilities,
  repos: Type.Optional(WorkerRepos),
  max_open_offers: Type.Optional(MaxOpenOffers),
  accept_offers: Type.Optional(AcceptOffers),
  trust: Trust,
  online: Type.Boolean(),
  capacity_used: Type.Integer({ minimum: 0 }),
  registered_at: EpochMs,
  last_seen_at: Type.Optional(EpochMs),
  revoked: Type.Optional(Type.Boolean()),
});
export type Worker = Static<typeof Worker> & Extensions;

/** What a worker says about itself (worker.register, worker.update, the hello profile). */
export const WorkerProfile = {
  skills: Skills,
  capacity: Effort,
  tools: Type.Array(Tool, { maxItems: 16, uniqueItems: true }),
  capabilities: WorkerCapabilities,
  repos: Type.Optional(WorkerRepos),
  max_open_offers: Type.Optional(MaxOpenOffers),
  accept_offers: Type.Optional(AcceptOffers),
};

/** The task fields a maintainer sets (task.create, task.update). */
export const TaskFields = {
  title: Type.String({ minLength: 1, maxLength: 256 }),
  body: Type.String({ maxLength: 65536 }),
  area: Area,
  tier: Tier,
  effort: Effort,
  skills: Skills,
  priority: Type.Integer({ minimum: -100, maximum: 100 }),
  acceptance: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }),
  issue: IssueRef,
};

export const Offer = Closed({
  offer_id: OfferId,
  task_id: TaskId,
  worker_id: WorkerId,
  repo: RepoId,
  created_at: EpochMs,
  deadline_at: EpochMs,
  task: Task,
});
export type Offer = Static<typeof Offer>;

/** A PR the calling worker opened, as `worker.prs` lists it (SPEC WORKER-004): open, merged or closed. */
export const SubmittedPr = Closed({
  task_id: TaskId,
  repo: RepoId,
  title: Type.String({ minLength: 1, maxLength: 256 }),
  state: Type.Union([Type.Literal('pr_opened'), Type.Literal('merged'), Type.Literal('closed')], {
    description: 'The task\'s state: `pr_opened` while the PR is open, `merged` or `closed` once the maintainers decided.',
  }),
  pr: PullRequestInfo,
  checks: Type.Optional({ ...PrChecks, description: 'The PR\'s required checks, in a repo that names some.' }),
  issue: Type.Optional(IssueRef),
  closed_reason: Type.Optional(Reason),
  updated_at: { ...EpochMs, description: 'When the task last changed state (opened, merged or closed).' },
});
export type SubmittedPr = Static<typeof SubmittedPr>;

export const Lease = Closed({
  lease_id: LeaseId,
  task_id: TaskId,
  worker_id: WorkerId,
  repo: RepoId,
  epoch: Epoch,
  granted_at: EpochMs,
  expires_at: EpochMs,
  max_deadline_at: EpochMs,
  heartbeat_interval_ms: Type.Integer({ minimum: 1 }),
  checks_deadline_at: Type.Optional({ ...EpochMs, description: 'Present while the lease waits for its PR\'s required checks: no heartbeat is needed until then (expires_at equals it).' }),
  pr: Type.Optional({ ...PullRequestInfo, description: 'The verified PR attached to the lease, waiting for the repo\'s required checks.' }),
  checks: Type.Optional({ ...PrChecks, description: 'The attached PR\'s required checks.' }),
});
export type Lease = Static<typeof Lease>;

export const REPO_SETTING_BOUNDS = {
  max_open_prs: { minimum: 0, maximum: 1000, default: 5 },
  max_new_prs_per_hour: { minimum: 0, maximum: 1000, default: 2 },
  heartbeat_timeout_ms: { minimum: 1000, maximum: 3_600_000, default: 30_000 },
  lease_max_duration_ms: { minimum: 5000, maximum: 7 * 24 * 3_600_000, default: 2 * 3_600_000 },
  offer_timeout_ms: { minimum: 1000, maximum: 600_000, default: 30_000 },
  max_attempts: { minimum: 1, maximum: 20, default: 3 },
  checks_timeout_ms: { minimum: 1000, maximum: 7 * 24 * 3_600_000, default: 2 * 3_600_000 },
} as const;

export const SettingOrigin = Type.Union([Type.Literal('contract'), Type.Literal('policy'), Type.Literal('config')], {
  description: '`contract` (.owp.yml), `policy` (.owp/policy.yml), or `config` (the coordinator\'s own configuration, which wins over the files).',
});
export type SettingOrigin = Static<typeof SettingOrigin>;

export const FileProblem = Closed({
  file: Type.String({ maxLength: 500 }),
  line: Type.Integer({ minimum: 1 }),
  column: Type.Integer({ minimum: 1 }),
  message: Type.String({ maxLength: 2000 }),
  hint: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type FileProblem = Static<typeof FileProblem>;

/** A function so each use gets its own copy (TypeBox schemas are plain objects, shared by reference otherwise). */
function RepoSourceSchema() {
  return Closed({
    from: Type.Union([Type.Literal('github'), Type.Literal('checkout')], { description: '`github`: the default branch through the code host\'s API; `checkout`: a local checkout.' }),
    ref: Type.Optional(Type.String({ maxLength: 255, description: 'The branch the files were read from.' })),
    sha: Type.Optional({ ...CommitSha, description: 'The commit whose files are in force (absent until a valid read).' }),
    read_at: EpochMs,
    files: Type.Array(Closed({ path: Type.String({ maxLength: 500 }), present: Type.Boolean() }), { maxItems: 8, description: 'The files in force and whether that commit has them.' }),
    rejected: Type.Optional(Closed({
      sha: Type.Optional(CommitSha),
      at: EpochMs,
      problems: Type.Array(FileProblem, { maxItems: 50 }),
    }, { description: 'The latest read that was refused (an invalid file): the last valid files stay in force until it is fixed.' })),
    origins: Type.Record(Type.String(), SettingOrigin, { description: 'Settings whose value comes from the repo\'s files or the coordinator\'s config; the rest are defaults or set through repo.configure.' }),
    disconnected: Type.Optional(Closed({
      reason: Type.Union([Type.Literal('app_uninstalled'), Type.Literal('app_suspended')], { description: '`app_uninstalled`: the GitHub App was uninstalled (or lost this repo\'s installation); `app_suspended`: its installation is suspended.' }),
      at: EpochMs,
      installation_id: Type.Optional(Type.Integer({ minimum: 1 })),
    }, { description: 'The coordinator can no longer reach this repo on the code host: it stopped syncing it, and refuses pr_opened reports it cannot verify until the App is installed (or unsuspended) again. The files above are the last read.' })),
  });
}
export const RepoSource = RepoSourceSchema();
export type RepoSource = Static<typeof RepoSource>;

const bounded = (key: keyof typeof REPO_SETTING_BOUNDS, description: string): TInteger =>
  Type.Integer({ ...REPO_SETTING_BOUNDS[key], description: `${description} Default ${REPO_SETTING_BOUNDS[key].default}.` });

export const RepoSettingsFields = {
  max_open_prs: bounded('max_open_prs', 'Review budget: open PRs plus live leases and open offers never exceed this.'),
  max_new_prs_per_hour: bounded('max_new_prs_per_hour', 'New PRs in any rolling hour, plus live leases and open offers, never exceed this.'),
  heartbeat_timeout_ms: bounded('heartbeat_timeout_ms', 'A lease with no heartbeat for this long expires.'),
  lease_max_duration_ms: bounded('lease_max_duration_ms', 'A lease ends after this long even with heartbeats.'),
  offer_timeout_ms: bounded('offer_timeout_ms', 'An offer not accepted within this long moves on.'),
  max_attempts: bounded('max_attempts', 'Attempts (declines, releases, expiries, cancellations) before a task is blocked.'),
  required_gates: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }), {
    maxItems: 16,
    uniqueItems: true,
    description: 'Gates whose passing evidence pr_opened must carry. Default ["tests"].',
  }),
  paused: Type.Boolean({ description: 'When true no new offers or claims are made in this repo. Default false.' }),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('private')], {
    description: 'Who may read the repo\'s tasks, settings and metrics besides its maintainers (SPEC AUTH-008): `public`, every worker; `private`, only workers whose login is on the policy\'s logins.allow (and not on logins.deny), who are also the only ones offered its tasks. Default public.',
  }),
  areas: Type.Record(Type.String({ pattern: AREA_NAME_PATTERN }), Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50 }), {
    maxProperties: 100,
    description: 'The contract\'s areas (`.owp.yml` areas: area name → path globs, the first area with a matching glob owns a path), read with the contract. The coordinator infers a reported PR\'s area from its changed files with them (policy rule pr_lane) and warns when live leases may touch the same paths. Default none.',
  }),
  policy: { ...RepoPolicySchema, description: 'The repo policy (.owp/policy.yml) the scheduler evaluates for every offer and claim; its budget sets max_open_prs and max_new_prs_per_hour unless they are given too. Replaced whole; {} removes every rule. Default none.' },
  required_checks: Type.Array(CheckName, {
    maxItems: 32,
    uniqueItems: true,
    description: 'CI checks that must succeed on the PR\'s current head before pr_opened counts; until then the PR waits attached to the lease (SPEC §5.5). Default [] (the worker\'s gate evidence alone, labelled self-reported).',
  }),
  checks_timeout_ms: bounded('checks_timeout_ms', 'How long a PR waits for its required checks (from its latest push) before it goes back to the volunteer\'s attention.'),
  source: { ...RepoSourceSchema(), description: 'Where the settings were read from (the repo\'s files on its default branch, a local checkout) and which commit is in force. Written by whoever applies the files; a repo.configure without it keeps it but forgets the origins of the settings it changes.' },
};

export const RepoSettings = Extensible({
  repo: RepoId,
  max_open_prs: Type.Integer(),
  max_new_prs_per_hour: Type.Integer(),
  heartbeat_timeout_ms: Type.Integer(),
  lease_max_duration_ms: Type.Integer(),
  offer_timeout_ms: Type.Integer(),
  max_attempts: Type.Integer(),
  required_gates: Type.Array(Type.String()),
  paused: Type.Boolean(),
  visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')])),
  policy: Type.Optional(RepoPolicySchema),
  areas: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  required_checks: Type.Optional(Type.Array(Type.String(), { description: 'Absent in repos configured before 0.1 grew CI checks: read as [].' })),
  checks_timeout_ms: Type.Optional(Type.Integer()),
  source: Type.Optional(RepoSourceSchema()),
});
export type RepoSettings = Static<typeof RepoSettings> & Extensions;

export const Budget = Closed({
  open_prs: Type.Integer({ minimum: 0 }),
  live_leases: Type.Integer({ minimum: 0 }),
  open_offers: Type.Integer({ minimum: 0 }),
  max_open_prs: Type.Integer({ minimum: 0 }),
  prs_last_hour: Type.Integer({ minimum: 0 }),
  max_new_prs_per_hour: Type.Integer({ minimum: 0 }),
  next_hourly_slot_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds: when the oldest PR of the rolling hour leaves it (absent when none was opened in the last hour).' })),
  throttled: Type.Boolean({ description: 'True when no new offer or claim fits in the budget (a limit in report mode never throttles).' }),
  adaptive: Type.Optional(Closed({
    floor: Type.Integer({ minimum: 0 }),
    ceiling: Type.Integer({ minimum: 0 }),
  }, { description: 'Present when the policy\'s adaptive budget moves max_open_prs: the bounds it moves between (each move is a budget.adapted event).' })),
});
export type Budget = Static<typeof Budget>;

export const VouchStatus = Type.Union([Type.Literal('vouched'), Type.Literal('denounced')], {
  description: 'vouched: a maintainer stands for the contributor (policy rule vouch_required); denounced: never offered work in the repo (rule denounced).',
});
/** A contributor's standing in one repo, set by its maintainers (contributor.vouch, contributor.denounce). */
export const ContributorStanding = Closed({
  login: GithubLogin,
  status: VouchStatus,
  reason: Type.Optional(Reason),
  by: Type.String({ maxLength: 100, description: 'Who set it: a maintainer id, or admin.' }),
  at: EpochMs,
});
export type ContributorStanding = Static<typeof ContributorStanding>;

/**
 * What one contributor holds in a repo against the policy's contributor_cap, as the coordinator
 * counts it for offers and claims (policy.standings): over every worker with the login.
 */
export const ContributorCapStanding = Closed({
  login: GithubLogin,
  open_prs: Type.Integer({ minimum: 0, description: 'Their PRs open in the repo, drafts included.' }),
  draft_prs: Type.Integer({ minimum: 0, description: 'Of open_prs, the ones GitHub reported as drafts (not counted with count_drafts: false).' }),
  live_leases: Type.Integer({ minimum: 0 }),
  open_offers: Type.Integer({ minimum: 0 }),
  merged_prs: Type.Integer({ minimum: 0, description: 'Their PRs merged in the repo, ever: each raises the cap by per_merge.' }),
  in_use: Type.Integer({ minimum: 0, description: 'Units held against the cap: open PRs (less drafts when they do not count), live leases and offers.' }),
  trust: Type.Integer({ minimum: 0, maximum: 3, description: 'The highest trust among the login\'s workers (what per_trust multiplies).' }),
  cap: Type.Optional(Type.Integer({ minimum: 0, description: 'The cap min(max, base + per_merge × merged_prs + per_trust × trust); absent without a contributor_cap rule or on its bypass list.' })),
  cap_rule: Type.Optional(Type.Literal('contributor_cap', { description: 'The rule that sets the cap.' })),
  cap_reason: Type.Optional(Type.String({ maxLength: 300, description: 'How the cap was reached, e.g. "base 2 + 3 × 1 merged PR = 5" or "on the bypass list".' })),
  mode: Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('report')], { description: 'The cap rule\'s mode: report refuses nothing, only journals.' })),
  at_cap: Type.Boolean({ description: 'True when in_use reaches the cap: no new offer or claim for this login here (only journaled in report mode).' }),
  bypass: Type.Boolean({ description: 'On the contributor_cap bypass list.' }),
  status: Type.Optional(VouchStatus),
  status_reason: Type.Optional(Reason),
  status_by: Type.Optional(Type.String({ maxLength: 100, description: 'Who vouched or denounced: a maintainer id, or admin.' })),
  status_at: Type.Optional(EpochMs),
});
export type ContributorCapStanding = Static<typeof ContributorCapStanding>;
export type VouchStatus = Static<typeof VouchStatus>;

export const Reasoned = Closed({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type Reasoned = Static<typeof Reasoned>;

export const Metrics = Closed({
  tasks_by_state: Type.Record(Type.String(), Type.Integer()),
  workers_online: Type.Integer(),
  workers_registered: Type.Integer(),
  utilization: Type.Number({ description: 'Capacity points leased ÷ capacity points online (0–1).' }),
  lead_time_ms_median: Type.Union([Type.Number(), Type.Null()], { description: 'Task created → PR opened, median over finished tasks.' }),
  lead_time_ms_p90: Type.Union([Type.Number(), Type.Null()]),
  requeue_rate: Type.Number({ description: 'Requeues (release, expiry, cancel) ÷ leases granted.' }),
  pr_acceptance_rate: Type.Union([Type.Number(), Type.Null()], { description: 'Merged ÷ (merged + closed) of PR outcomes.' }),
  leases_granted: Type.Integer(),
  requeues: Type.Integer(),
  prs_opened: Type.Integer(),
  prs_merged: Type.Integer(),
  prs_closed: Type.Integer(),
  journal_seq: Type.Integer(),
});
export type Metrics = Static<typeof Metrics>;
