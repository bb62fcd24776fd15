/**
 * The term fence in every append (coordinator/store/postgres.ts), shown on real processes: the
 * leader's database link goes silent (a blackhole: nothing delivered, nothing closed) just as it
 * sends a change, a standby takes over, and then the link delivers the old leader's append late,
 * to a database where another node now leads. The append must be refused: nothing from a deposed
 * leader is ever committed, and what it could not commit it never acknowledged.
 * Without the term check the late append lands in the new term's journal (test:defects no-term-fence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { HttpClient } from '../../client/http-client.ts';
import { newToken } from '../../coordinator/auth.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startCluster } from '../helpers/cluster.ts';
import { checkTerms, journalWithTerms, waitUntilAsync } from '../helpers/cluster-failover.ts';
import '../helpers/postgres.ts';

test('cluster: a deposed leader\'s append delivered late, after a standby took over, is refused by the term fence and never acknowledged', async () => {
  const dir = tempDir('owp-fence-');
  const token = newToken('maintainer');
  const cluster = await startCluster({ dir, token, nodes: 2 });
  try {
    const { node: old, term } = await cluster.waitForLeader(0, 60_000);
    const direct = new HttpClient({ baseUrl: old.url, token, timeoutMs: 30_000 });
    await direct.call('repo.configure', { repo: 'fence/r', max_open_prs: 2 });
    await direct.call('task.create', { repo: 'fence/r', title: 'before' });
    const before = (await journalWithTerms(cluster)).rows.length;

    // The leader decides, and its append goes into the silent link; its lease runs out meanwhile.
    old.db.blackhole();
    const late = direct.call('task.create', { repo: 'fence/r', title: 'sent by the deposed leader' }).then((r) => ({ ok: true as const, r }), (error: Error) => ({ ok: false as const, error }));
    const next = await cluster.waitForLeader(term, 30_000);
    assert.notEqual(next.node.id, old.id);
    assert.equal((await journalWithTerms(cluster)).rows.length, before, 'the new leader wrote nothing yet: the late append would land at the next seq');
    old.db.restore(); // the held append reaches PostgreSQL now, after the takeover
    const answer = await late;

    assert.ok(await waitUntilAsync(async () => (await cluster.status(old))?.leader === false, 30_000), 'the deposed leader follows');
    const { rows, terms } = await journalWithTerms(cluster);
    assert.deepEqual(checkTerms(rows, terms), []);
    const titles = rows.map((r) => (r.event.type === 'task.created' ? (r.event.data.task as { title: string }).title : null));
    assert.ok(!titles.includes('sent by the deposed leader'), 'the deposed leader\'s change is not in the journal');
    assert.equal(answer.ok, false, 'and it was never acknowledged');
    assert.match(old.proc.output(), /term \d+ is over/, 'the database refused the append: the term fence bit, not a timer');

    // The cluster goes on under the new leader, reached through the deposed one.
    const after = await direct.call('task.create', { repo: 'fence/r', title: 'after' });
    assert.ok(after.task.id);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
