/**
 * SPEC §5.16: a repo with more tasks than one page holds is listed whole by following cursors
 * (protocol/list-pages.ts, which the CLI, extension, dashboard and /metrics use), on a real
 * coordinator over HTTP, while tasks are created between the pages; the dashboard's client loads
 * a column of more tasks than one page whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardApi } from '../../media/dashboard/api.ts';
import { listAll } from '../../protocol/list-pages.ts';
import type { Params } from '../../protocol/operations.ts';
import { startPool } from '../helpers/coordinator.ts';

test('task.list of a repo with 1,050 tasks is walked whole in two pages of 1,000, each task once, while tasks are added', async () => {
  const pool = await startPool('memory');
  try {
    const repo = 'big/repo';
    await pool.repo(repo);
    const ids: string[] = [];
    for (let batch = 0; batch < 21; batch += 1) {
      ids.push(...(await Promise.all(Array.from({ length: 50 }, (_x, i) => pool.task(repo, { title: `task ${batch * 50 + i}`, skills: ['nobody-has-this'] })))));
    }
    const first = await pool.admin.call('task.list', { repo, limit: 1000 });
    assert.equal(first.tasks.length, 1000);
    assert.equal(typeof first.next_cursor, 'string', 'a full page says there is more');
    let pages = 0;
    const walked = await listAll(async (params: Params<'task.list'>) => {
      pages += 1;
      const page = await pool.admin.call('task.list', params);
      // Inserted mid-walk: newer than the walk's start, so it belongs to no later page.
      if (pages === 1) await pool.task(repo, { title: 'added during the walk', skills: ['nobody-has-this'] });
      return page;
    }, 'task.list', { repo, limit: 1000 });
    assert.equal(pages, 2);
    const seen = walked.map((t) => t.id);
    assert.equal(new Set(seen).size, seen.length, 'no task twice');
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'every task that existed when the walk started, once');
    // The dashboard's own client, over HTTP as the browser calls it, loads the ready column whole,
    // and of finished tasks one page of the newest.
    const api = new DashboardApi(pool.url, pool.adminToken);
    const ready = (await api.tasks('ready')).tasks.map((t) => t.id);
    assert.equal(ready.length, ids.length + 1, 'every ready task, past the first page of 1,000');
    assert.equal(new Set(ready).size, ready.length, 'no task twice');
    assert.equal((await api.recentTasks('ready', 5)).tasks.length, 5);
    const withoutCursor = await pool.admin.callRaw('task.list', { repo, cursor: 'not-a-cursor' });
    assert.equal(withoutCursor.ok ? 'ok' : withoutCursor.error.code, 'VALIDATION_FAILED');
  } finally {
    await pool.close();
  }
});
