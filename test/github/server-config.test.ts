import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../../client/http-client.ts';
import { startCoordinator } from '../../coordinator/server.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';

test('owp coordinator connects the repos of its github config section (tokens from env, sync state on disk)', async () => {
  const gh = await startFakeGitHub({ tokens: [{ token: 'ghp_env_token', login: 'owp-bot', permissions: { issues: 'write', pull_requests: 'read' } }], repos: ['acme/site'] });
  const dataDir = tempDir('owp-server-github-');
  process.env.OWP_TEST_GITHUB_TOKEN = 'ghp_env_token';
  process.env.OWP_TEST_GITHUB_SECRET = 'shh';
  const started = await startCoordinator({
    config: {
      port: 0,
      store: 'lowdb',
      data_dir: dataDir,
      github: { api_url: gh.url, token_env: 'OWP_TEST_GITHUB_TOKEN', webhook_secret_env: 'OWP_TEST_GITHUB_SECRET', poll_interval_ms: 0, repos: [{ repo: 'acme/site', comments: true }] },
    },
  });
  try {
    assert.ok(started.github);
    gh.state.addIssue('acme/site', { title: 'From the config', labels: ['owp'] });
    await started.github.pollNow();
    const admin = new HttpClient({ baseUrl: started.url, token: started.adminToken });
    const { tasks } = await admin.call('task.list', { repo: 'acme/site' });
    assert.deepEqual(tasks.map((t) => t.title), ['From the config']);
    assert.ok(existsSync(join(dataDir, 'github-sync.json')));
    const unsigned = await fetch(`${started.url}/webhooks/github`, { method: 'POST', body: '{}', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'x' } });
    assert.equal(unsigned.status, 401);
    const journal = await admin.call('journal.read', { after_seq: 0, limit: 1000 });
    assert.ok(!JSON.stringify(journal).includes('ghp_env_token'), 'the token never reaches the journal');
  } finally {
    await started.coordinator.close();
    await gh.close();
    rmSync(dataDir, { recursive: true, force: true });
    delete process.env.OWP_TEST_GITHUB_TOKEN;
    delete process.env.OWP_TEST_GITHUB_SECRET;
  }
});
