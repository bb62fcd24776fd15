/**
 * Reputation that can be lost: with reputation.decay_half_life_days, a worker's trust halves
 * (rounded down) for each half-life without a lease, PR or merge, journaled through
 * worker.set_trust; activity restarts the count, and earning it back takes promote_after_merged
 * merges per level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextOffer } from '../helpers/coordinator.ts';
import { REPO, startGitHubPool } from '../helpers/github-pool.ts';
import { decayedTrust } from '../../coordinator/github/reputation.ts';
import { parseGitHubConfig } from '../../coordinator/github/config.ts';

const DAY = 86_400_000;

test('decayedTrust halves per whole half-life, never below 0', () => {
  assert.deepEqual(decayedTrust(3, 9 * DAY, 10 * DAY), { trust: 3, halvings: 0 });
  assert.deepEqual(decayedTrust(3, 10 * DAY, 10 * DAY), { trust: 1, halvings: 1 });
  assert.deepEqual(decayedTrust(3, 25 * DAY, 10 * DAY), { trust: 0, halvings: 2 });
  assert.deepEqual(decayedTrust(2, 1000 * DAY, 0), { trust: 2, halvings: 0 }, 'a half-life of 0 turns decay off');
  assert.throws(() => parseGitHubConfig({ repos: [{ repo: REPO }], reputation: { decay_half_life_days: -1 } }), /decay_half_life_days must be a number of days from 0 \(off\) to 3650/);
});

test('an idle worker loses half its trust per half-life, journaled; a lease counts as activity', async () => {
  const g = await startGitHubPool({ github: { reputation: { decay_half_life_days: 10 } } });
  try {
    await g.pool.repo(REPO, { max_open_prs: 10 });
    const t0 = Date.now();
    // busy takes a lease: its idle time counts from then; idle joins afterwards and does nothing.
    g.gh.state.addIssue(REPO, { title: 'Port the parser', labels: ['owp'] });
    await g.poll();
    const busy = await g.volunteer('busy', {}, { trust: 3 });
    const offer = await nextOffer(busy.worker);
    await busy.worker.accept(offer.offer_id);
    const idle = await g.volunteer('idle', {}, { trust: 3 });
    await g.settled();
    const trustOf = async (id: string | undefined): Promise<number | undefined> => (await g.pool.admin.call('worker.list', {})).workers.find((w) => w.id === id)?.trust;

    // The lease is activity: busy's idle time counts from its lease.granted, idle's from its registration.
    const granted = (await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 })).events.find((e) => e.type === 'lease.granted');
    assert.equal(g.integration.context.state.data.last_active?.[busy.worker.worker?.id ?? ''], granted?.at);
    await g.integration.decayTrust(t0 + 9 * DAY);
    assert.equal(await trustOf(idle.worker.worker?.id), 3, 'less than a half-life idle: unchanged');
    await g.integration.decayTrust(t0 + 11 * DAY);
    assert.equal(await trustOf(idle.worker.worker?.id), 1, 'one half-life idle: 3 → 1');
    assert.equal(await trustOf(busy.worker.worker?.id), 1);
    await g.integration.decayTrust(t0 + 12 * DAY);
    assert.equal(await trustOf(idle.worker.worker?.id), 1, 'the next halving takes another full half-life');
    await g.integration.decayTrust(t0 + 21.5 * DAY);
    assert.equal(await trustOf(idle.worker.worker?.id), 0);
    const changes = (await g.pool.admin.call('journal.read', { after_seq: 0, limit: 1000 })).events.filter((e) => e.type === 'worker.trust_changed' && e.worker_id === idle.worker.worker?.id);
    assert.deepEqual(changes.map((e) => (e.data as { trust: number }).trust), [3, 1, 0], 'set by the pool, then each decay journaled');
  } finally {
    await g.close();
  }
});
