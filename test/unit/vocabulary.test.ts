/**
 * One vocabulary on every surface (issue 16): the review budget, capacity and a lease's time are
 * worded once, in protocol/vocabulary.ts. These pin the words; the surfaces' own tests
 * (extension-view-models, cli-worker-repos, dashboard-live, pr-lifecycle, metrics, review-budget)
 * check that each surface uses them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  budgetReserved, capacityUse, formatBudget, formatCapacity, formatCapacityDetail, formatHeartbeat, formatHourlyBudget,
  formatLeaseDeadline, formatLeaseDeadlineAt, formatNextHourlySlot, formatReservedBudget, formatSpan, heartbeatHealth, nextHourlySlotAt,
} from '../../protocol/vocabulary.ts';
import { budgetInUse, reviewBudget } from '../../protocol/budget.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

test('the review budget reads "reserved 4/5: 3 PRs · 1 lease · 0 offers", the same sums the coordinator enforces', () => {
  const counts = { open_prs: 3, live_leases: 1, open_offers: 0, prs_last_hour: 2 };
  const budget = reviewBudget(counts, { max_open_prs: 5, max_new_prs_per_hour: 4 });
  assert.equal(formatReservedBudget(budget), 'reserved 4/5: 3 PRs · 1 lease · 0 offers');
  assert.equal(formatHourlyBudget(budget), 'this hour 3/4: 2 PRs opened · 1 lease · 0 offers');
  assert.deepEqual(budgetReserved(budget), budgetInUse(counts), 'the words and the enforcement add the same parts');
  // Offers count like leases: a budget that forgot them would read 3/5 here.
  assert.equal(formatReservedBudget({ ...budget, live_leases: 0, open_offers: 1 }), 'reserved 4/5: 3 PRs · 0 leases · 1 offer');
});

test('the next hourly slot: open now, when the oldest PR of the hour leaves it, or when a lease or offer ends', () => {
  const base = { open_prs: 0, live_leases: 1, open_offers: 0, max_open_prs: 5, max_new_prs_per_hour: 2 };
  assert.equal(formatNextHourlySlot({ ...base, prs_last_hour: 0 }, NOW), 'an hourly slot is open');
  const oldest = NOW - 48 * MIN;
  const next = nextHourlySlotAt([NOW - 90 * MIN, oldest, NOW - 5 * MIN], NOW);
  assert.equal(next, oldest + 60 * MIN, 'a PR older than an hour is not in the window');
  assert.equal(formatNextHourlySlot({ ...base, prs_last_hour: 1, next_hourly_slot_at: next }, NOW), 'next hourly slot opens in 12 min');
  assert.equal(formatNextHourlySlot({ ...base, prs_last_hour: 2, next_hourly_slot_at: next }, NOW), 'next hourly slot opens in 12 min at the earliest');
  assert.equal(formatNextHourlySlot({ ...base, live_leases: 2, prs_last_hour: 0 }, NOW), 'next hourly slot opens when a lease or offer ends');
  assert.equal(nextHourlySlotAt([NOW - 61 * MIN], NOW), undefined);
  assert.equal(
    formatBudget({ ...base, prs_last_hour: 1, next_hourly_slot_at: next }, NOW),
    'reserved 1/5: 0 PRs · 1 lease · 0 offers · this hour 2/2: 1 PR opened · 1 lease · 0 offers · next hourly slot opens in 12 min',
  );
});

test('capacity: used counts leases and offers alike, "2 used / 1 free (1 leased · 1 offered)"', () => {
  const figures = { capacity: 3, leased: 1, offered: 1 };
  assert.deepEqual(capacityUse(figures), { used: 2, free: 1 });
  assert.equal(formatCapacity(figures), '2 used / 1 free');
  assert.equal(formatCapacityDetail(figures), '2 used / 1 free (1 leased · 1 offered)');
  assert.equal(formatCapacity({ capacity: 1, leased: 2, offered: 0 }), '2 used / 0 free', 'a lowered capacity never shows negative room');
});

test('a lease\'s time: the hard deadline, and apart from it the heartbeat\'s health', () => {
  assert.equal(formatLeaseDeadline(NOW + 119 * MIN, NOW), 'deadline in 1 h 59 min');
  assert.equal(formatLeaseDeadline(NOW - 1, NOW), 'past its deadline');
  assert.equal(formatLeaseDeadlineAt(Date.UTC(2026, 11, 6, 9, 20, 30)), 'deadline 2026-12-06 09:20 UTC');
  const timeout = 30_000;
  assert.equal(heartbeatHealth(NOW + 26_000, timeout, NOW), 'ok');
  assert.equal(formatHeartbeat(NOW + 26_000, timeout, NOW), 'heartbeat ok', 'a healthy lease shows no countdown that could pass for its time');
  assert.equal(formatHeartbeat(NOW + 9000, timeout, NOW), 'heartbeat late: lease lost in 9 s without one');
  assert.equal(formatHeartbeat(NOW, timeout, NOW), 'heartbeat lost');
});

test('spans read at a glance', () => {
  assert.deepEqual([27_100, 4 * MIN + 5000, 112 * MIN, 120 * MIN, 0].map(formatSpan), ['28 s', '4 min', '1 h 52 min', '2 h', '0 s']);
});
