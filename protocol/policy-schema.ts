/**
 * The repo policy (`.owp/policy.yml`): which workers may take which work in a repo. It is kept
 * apart from the contract so CODEOWNERS can guard it on its own; the coordinator stores it in the
 * repo's settings (`policy`, set with repo.configure) and the scheduler evaluates it for every
 * offer and claim. Every rule has a stable id that refusals name (`details.rule`).
 */
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { AREA_NAME_PATTERN, AreaName, X_KEY_PATTERN } from './contract-schema.ts';
import { checkYaml, type CheckedYaml, type Diagnostic, type Locator } from './yaml-diagnostics.ts';

export const POLICY_FILE = '.owp/policy.yml';

// model.ts embeds this schema in RepoSettings, so nothing here may import model.ts (an import cycle
// would leave its constants uninitialised). test/unit/policy-schema.test.ts checks these copies match.
export const GITHUB_LOGIN_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$';
export const BUDGET_BOUNDS = {
  max_open_prs: { minimum: 0, maximum: 1000, default: 5 },
  max_new_prs_per_hour: { minimum: 0, maximum: 1000, default: 2 },
} as const;
const GithubLogin = Type.String({ pattern: GITHUB_LOGIN_PATTERN, description: 'A GitHub login.', 'x-hint': 'A GitHub login: letters, digits and -, at most 39 characters.' });

/** Rule ids, in the order they are evaluated. Budget rules are enforced through the repo settings. */
export const POLICY_RULES = {
  denounced: 'A contributor the repo\'s maintainers denounced (contributor.denounce) takes no work in this repo. Applies with or without a policy file.',
  vouch_required: 'Tasks of tier ≥ vouch.from_tier go only to contributors the repo\'s maintainers vouched for (contributor.vouch); from_tier 0 means every task.',
  login_deny: 'Logins on logins.deny take no work in this repo.',
  login_allow: 'When logins.allow is non-empty, only those logins take work in this repo.',
  safe_lanes: 'Workers below safe_lanes.below_trust take only tasks in the safe lanes.',
  tier_trust: 'A task of tier ≥ from_tier needs a worker with trust ≥ min_trust.',
  max_active_per_worker: 'A worker holds at most this many offered or leased tasks in this repo at once.',
  contributor_cap: 'A contributor (a GitHub login, over all its workers) holds at most its cap of open PRs, live leases and offers in this repo; the cap grows with the PRs of theirs merged here and with trust.',
  signed_commits: 'Tasks of tier ≥ signed_commits.from_tier need a PR whose every commit GitHub verified (signed with an SSH or GPG key the author registered): a PR with unsigned commits is refused (POLICY_DENIED at pr_opened), naming them. Checked when a PR is reported, by a coordinator that verifies PRs.',
  pr_lane: 'A reported PR stays in its task\'s area: the area inferred from its changed files (GitHub\'s pulls files API, the contract\'s areas) must be the task\'s area or inside it, with no path outside every area. refuse turns such a PR away (POLICY_DENIED at pr_opened); flag lets it count, marked for the maintainers. Checked when a PR is reported, by a coordinator that verifies PRs.',
  area_max_active: 'An area (with its sub-areas) has at most max_active active tasks (offered, leased, in progress or with an open PR).',
  area_trust: 'Tasks in an area with min_trust need a worker with that trust, unless the worker is on the area\'s allow list.',
  risky_area: 'Risky areas are denied by default: only workers on the area\'s allow list or with its min_trust take them.',
  max_open_prs: 'Open PRs plus live leases and offers never exceed budget.max_open_prs (the repo setting max_open_prs).',
  max_new_prs_per_hour: 'New PRs in any rolling hour plus live leases and offers never exceed budget.max_new_prs_per_hour.',
} as const;
export type PolicyRuleId = keyof typeof POLICY_RULES;

/** How a rule acts: `enforce` refuses; `report` records "would refuse" in the journal and the dashboard without refusing (a dry run). */
export const RULE_MODES = ['enforce', 'report'] as const;
export type RuleMode = (typeof RULE_MODES)[number];
const RuleModeSchema = Type.Union([Type.Literal('enforce'), Type.Literal('report')], {
  description: 'enforce (the default) refuses; report records "would refuse" once per task, worker and rule (policy.dry_run_hit) and lets it through.',
  'x-hint': 'enforce or report.',
});
// Each rule's own entry, so hovering `contributor_cap:` under modes says what that rule does.
const ruleModes = Object.fromEntries(Object.entries(POLICY_RULES).map(([rule, what]) => [
  rule,
  Type.Optional(Type.Union([Type.Literal('enforce'), Type.Literal('report')], { description: `Rule ${rule}: ${what} ${RuleModeSchema.description}`, 'x-hint': 'enforce or report.' })),
])) as { [K in PolicyRuleId]: TOptional<typeof RuleModeSchema> };

const Trust = (description: string) => Type.Integer({ minimum: 0, maximum: 3, description, 'x-hint': 'Trust levels run from 0 (new) to 3.' });
const Logins = (description: string) => Type.Array(GithubLogin, { maxItems: 1000, uniqueItems: true, description, 'x-hint': 'List GitHub logins, e.g. [alice, bob].' });

export const AreaPolicySchema = Type.Object({
  max_active: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: `Rule area_max_active: ${POLICY_RULES.area_max_active}` })),
  min_trust: Type.Optional(Trust(`Rule area_trust: ${POLICY_RULES.area_trust}`)),
  risky: Type.Optional(Type.Boolean({ description: `Rule risky_area: ${POLICY_RULES.risky_area} Default false.` })),
  allow: Type.Optional(Logins('Logins that may work in this area whatever their trust (the explicit grant a risky area needs).')),
}, { additionalProperties: false, description: 'Limits for one area and its sub-areas.' });

const CapCount = (description: string) => Type.Integer({ minimum: 0, maximum: 1000, description });

export const ContributorCapSchema = Type.Object({
  base: CapCount('Units (open PRs + live leases + offers) a contributor with no merged PR here and trust 0 may hold.'),
  per_merge: Type.Optional(CapCount('Added to the cap for each PR of theirs merged in this repo. Default 0.')),
  per_trust: Type.Optional(CapCount('Added to the cap for each trust level of the worker asking. Default 0.')),
  max: Type.Optional(CapCount('The cap never grows past this. Default: no ceiling but the review budget.')),
  count_drafts: Type.Optional(Type.Boolean({ description: 'Whether draft PRs count towards the cap (as GitHub reported them when the PR was verified). Default true.' })),
  bypass: Type.Optional(Logins('Logins the cap does not apply to (maintainers, bots).')),
}, {
  additionalProperties: false,
  description: `Rule contributor_cap: ${POLICY_RULES.contributor_cap} cap = min(max, base + per_merge × merged PRs + per_trust × trust).`,
  'x-hint': 'Write contributor_cap: { base: 2, per_merge: 3, max: 10 }.',
});
export type ContributorCap = Static<typeof ContributorCapSchema>;

export const AdaptiveBudgetSchema = Type.Object({
  floor: Type.Integer({ minimum: 0, maximum: 1000, description: 'The effective max_open_prs never goes below this.' }),
  ceiling: Type.Integer({ minimum: 1, maximum: 1000, description: 'The effective max_open_prs never goes above this.' }),
  target_review_hours: Type.Number({
    exclusiveMinimum: 0, maximum: 8760,
    description: 'A PR merged within this many hours of counting (pr_opened) is a success: the budget grows by increase. A PR merged later, or closed unmerged, is a failure: the budget is multiplied by decrease_factor.',
  }),
  increase: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Added to the effective max_open_prs after each success (additive increase). Default 1.' })),
  decrease_factor: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'The effective max_open_prs is multiplied by this (rounded down) after each failure (multiplicative decrease). Default 0.5.' })),
}, {
  additionalProperties: false,
  description: 'The adaptive review budget (opt-in): the effective max_open_prs follows how fast the maintainers review, between floor and ceiling. Each merged or closed PR moves it, Zuul-style: +increase on a PR merged within target_review_hours, ×decrease_factor on one merged later or closed unmerged; each change is journaled (budget.adapted) with its reason. budget.max_open_prs is where it starts.',
  'x-hint': 'Write adaptive: { floor: 2, ceiling: 12, target_review_hours: 48 }.',
});
export type AdaptiveBudget = Static<typeof AdaptiveBudgetSchema>;

export const TierRuleSchema = Type.Object({
  from_tier: Type.Integer({ minimum: 0, maximum: 3, description: 'Applies to tasks of this tier and above (0–3).' }),
  min_trust: Trust('Trust a worker needs for those tasks.'),
}, { additionalProperties: false, description: `Rule tier_trust: ${POLICY_RULES.tier_trust}`, 'x-hint': 'Write - { from_tier: 2, min_trust: 2 }.' });

export const RepoPolicySchema = Type.Object({
  version: Type.Optional(Type.Literal(1, { description: 'Policy format version. Only 1 exists.' })),
  logins: Type.Optional(Type.Object({
    allow: Type.Optional(Logins(`Rule login_allow: ${POLICY_RULES.login_allow}`)),
    deny: Type.Optional(Logins(`Rule login_deny: ${POLICY_RULES.login_deny}`)),
  }, { additionalProperties: false, description: 'Allow and deny lists of GitHub logins.' })),
  safe_lanes: Type.Optional(Type.Object({
    below_trust: Trust(`Rule safe_lanes: ${POLICY_RULES.safe_lanes} 1 keeps trust-0 newcomers in the lanes.`),
    lanes: Type.Optional(Type.Array(AreaName, {
      maxItems: 20,
      uniqueItems: true,
      description: 'The safe lanes (areas; a lane covers its sub-areas). Default: the contract\'s safe_lanes when the coordinator read it, else [docs, tests].',
    })),
  }, { additionalProperties: false, description: `Rule safe_lanes: ${POLICY_RULES.safe_lanes}`, 'x-hint': 'Write safe_lanes: { below_trust: 1 }.' })),
  tiers: Type.Optional(Type.Array(TierRuleSchema, { maxItems: 4, description: `Rule tier_trust: ${POLICY_RULES.tier_trust} The strictest matching entry applies; the engine's own check (trust ≥ tier) always applies too.` })),
  max_active_per_worker: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: `Rule max_active_per_worker: ${POLICY_RULES.max_active_per_worker}` })),
  contributor_cap: Type.Optional(ContributorCapSchema),
  signed_commits: Type.Optional(Type.Object({
    from_tier: Type.Integer({ minimum: 0, maximum: 3, description: 'Tasks of this tier and above need every commit of their PR verified by GitHub; 0: every task.' }),
  }, { additionalProperties: false, description: `Rule signed_commits: ${POLICY_RULES.signed_commits}`, 'x-hint': 'Write signed_commits: { from_tier: 2 }.' })),
  pr_lane: Type.Optional(Type.Union([Type.Literal('refuse'), Type.Literal('flag'), Type.Literal('allow')], {
    description: `Rule pr_lane: ${POLICY_RULES.pr_lane} allow (the default) only records the PR\'s areas.`,
    'x-hint': 'refuse, flag or allow.',
  })),
  vouch: Type.Optional(Type.Object({
    from_tier: Type.Integer({ minimum: 0, maximum: 3, description: 'Tasks of this tier and above need a vouched contributor; 0: every task.' }),
  }, { additionalProperties: false, description: `Rule vouch_required: ${POLICY_RULES.vouch_required} Maintainers vouch with \`owp vouch @login --repo …\`.`, 'x-hint': 'Write vouch: { from_tier: 0 } to require vouching for everyone.' })),
  modes: Type.Optional(Type.Object(ruleModes, {
    additionalProperties: false,
    description: 'Per rule id: enforce (default) or report. A rule in report mode records in the journal and the dashboard whom it would have refused, without refusing: try a rule before enforcing it.',
    'x-hint': 'Write modes: { contributor_cap: report }.',
  })),
  budget: Type.Optional(Type.Object({
    adaptive: Type.Optional(AdaptiveBudgetSchema),
    max_open_prs: Type.Optional(Type.Integer({
      minimum: BUDGET_BOUNDS.max_open_prs.minimum,
      maximum: BUDGET_BOUNDS.max_open_prs.maximum,
      description: `Rule max_open_prs: ${POLICY_RULES.max_open_prs} Sets the repo setting; default ${BUDGET_BOUNDS.max_open_prs.default}.`,
    })),
    max_new_prs_per_hour: Type.Optional(Type.Integer({
      minimum: BUDGET_BOUNDS.max_new_prs_per_hour.minimum,
      maximum: BUDGET_BOUNDS.max_new_prs_per_hour.maximum,
      description: `Rule max_new_prs_per_hour: ${POLICY_RULES.max_new_prs_per_hour} Sets the repo setting; default ${BUDGET_BOUNDS.max_new_prs_per_hour.default}.`,
    })),
  }, { additionalProperties: false, description: 'The review budget; applying the policy sets the repo settings of the same names (with adaptive, max_open_prs is where the adaptive budget starts).' })),
  areas: Type.Optional(Type.Record(Type.String({ pattern: AREA_NAME_PATTERN }), AreaPolicySchema, {
    additionalProperties: false,
    description: 'Per-area limits. A task\'s area is governed by every entry equal to it or above it (core covers core/db).',
    'x-key-completion': 'area',
    'x-key-hint': 'Area names are lower-case letters, digits and . _ - /, e.g. core or docs/api.',
  })),
}, {
  additionalProperties: false,
  patternProperties: { [X_KEY_PATTERN]: {} },
  description: 'The OWP repo policy: which workers may take which work in this repo.',
});
export type RepoPolicy = Static<typeof RepoPolicySchema>;

function policySemantics(policy: RepoPolicy, locate: Locator): Diagnostic[] {
  const out: Diagnostic[] = [];
  const deny = new Set(policy.logins?.deny ?? []);
  (policy.logins?.allow ?? []).forEach((login, index) => {
    if (deny.has(login)) out.push(locate.diagnostic(['logins', 'allow', index], 'warning', `"${login}" is on both logins.allow and logins.deny; deny wins.`, 'Remove it from one list.'));
  });
  const seenTiers = new Map<number, number>();
  (policy.tiers ?? []).forEach((rule, index) => {
    if (seenTiers.has(rule.from_tier)) {
      out.push(locate.diagnostic(['tiers', index, 'from_tier'], 'error', `from_tier ${rule.from_tier} appears twice in tiers.`, 'Keep one entry per from_tier.'));
    }
    seenTiers.set(rule.from_tier, index);
  });
  const cap = policy.contributor_cap;
  if (cap?.max !== undefined && cap.max < cap.base) {
    out.push(locate.diagnostic(['contributor_cap', 'max'], 'warning', `contributor_cap.max ${cap.max} is below base ${cap.base}, so every contributor's cap is ${cap.max}.`, 'Raise max or lower base.'));
  }
  const adaptive = policy.budget?.adaptive;
  if (adaptive && adaptive.floor > adaptive.ceiling) {
    out.push(locate.diagnostic(['budget', 'adaptive', 'floor'], 'error', `budget.adaptive.floor ${adaptive.floor} is above its ceiling ${adaptive.ceiling}.`, 'Make floor ≤ ceiling.'));
  }
  const start = policy.budget?.max_open_prs;
  if (adaptive && start !== undefined && (start < adaptive.floor || start > adaptive.ceiling)) {
    out.push(locate.diagnostic(['budget', 'max_open_prs'], 'warning', `budget.max_open_prs ${start} is outside the adaptive floor ${adaptive.floor} and ceiling ${adaptive.ceiling}; the adaptive budget starts at ${Math.min(Math.max(start, adaptive.floor), adaptive.ceiling)}.`, 'Set max_open_prs between floor and ceiling.'));
  }
  for (const [area, limits] of Object.entries(policy.areas ?? {})) {
    if (limits.risky && limits.min_trust === undefined && (limits.allow ?? []).length === 0) {
      out.push(locate.diagnostic(['areas', area], 'warning', `The risky area "${area}" has neither min_trust nor allow, so no worker can take its tasks.`, 'Add min_trust: 2 or allow: [<login>] to open it to some workers.', 'key'));
    }
  }
  return out;
}

/** The mode of a rule in a policy: report only when the policy says so. */
export function ruleMode(policy: RepoPolicy | undefined, rule: PolicyRuleId): RuleMode {
  return policy?.modes?.[rule] ?? 'enforce';
}

/** Parses and checks `.owp/policy.yml` text; every problem comes back with its line and column. */
export function checkPolicyText(text: string): CheckedYaml<RepoPolicy> {
  return checkYaml<RepoPolicy>(text, RepoPolicySchema, { semantic: policySemantics });
}
