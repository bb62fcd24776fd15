/** Every conformance suite, in the order they run and are reported. */
import type { Suite } from './types.ts';
import { SUITE as connection } from './suites/connection.ts';
import { SUITE as auth } from './suites/auth.ts';
import { SUITE as workers } from './suites/workers.ts';
import { SUITE as bindings } from './suites/bindings.ts';
import { SUITE as offers } from './suites/offers.ts';
import { SUITE as directLeases } from './suites/direct-leases.ts';
import { SUITE as leases } from './suites/leases.ts';
import { SUITE as maintainers } from './suites/maintainers.ts';
import { SUITE as matching } from './suites/matching.ts';
import { SUITE as idempotency } from './suites/idempotency.ts';
import { SUITE as journal } from './suites/journal.ts';
import { SUITE as states } from './suites/states.ts';
import { SUITE as policy } from './suites/policy.ts';
import { SUITE as policyContributors } from './suites/policy-contributors.ts';
import { SUITE as checks } from './suites/checks.ts';
import { SUITE as reads } from './suites/reads.ts';
import { SUITE as lists } from './suites/lists.ts';
import { SUITE as github } from './suites/github.ts';

export const ALL_SUITES: readonly Suite[] = [connection, auth, workers, bindings, offers, directLeases, leases, maintainers, matching, idempotency, journal, states, policy, policyContributors, checks, reads, lists, github];
