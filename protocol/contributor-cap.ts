/**
 * The per-contributor cap (policy rule contributor_cap), one formula for the coordinator that
 * enforces it and every view that shows it: what a contributor (a GitHub login, over all its
 * workers) holds in a repo, and the cap that grows with their merged PRs there and their trust.
 * Pure, with no imports at run time, so the dashboard bundle can use it.
 */
import type { ContributorCap } from './policy-schema.ts';

/** What one contributor holds in one repo at one moment, and their record there. */
export interface ContributorCounts {
  /** Their PRs open in the repo (drafts included). */
  open_prs: number;
  /** Of those, the ones GitHub reported as drafts. */
  draft_prs: number;
  live_leases: number;
  open_offers: number;
  /** Their PRs merged in the repo, ever. */
  merged_prs: number;
}

/** The cap for a contributor with `merged` PRs merged here, asking through a worker of `trust`. */
export function contributorCap(rule: ContributorCap, merged: number, trust: number): number {
  const grown = rule.base + (rule.per_merge ?? 0) * merged + (rule.per_trust ?? 0) * trust;
  return rule.max === undefined ? grown : Math.min(rule.max, grown);
}

/** Units held against the cap: open PRs (less drafts when they do not count), live leases and offers. */
export function contributorInUse(c: ContributorCounts, rule: ContributorCap): number {
  const prs = rule.count_drafts === false ? c.open_prs - c.draft_prs : c.open_prs;
  return prs + c.live_leases + c.open_offers;
}
