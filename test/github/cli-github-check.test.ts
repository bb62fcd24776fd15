import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../cli/commands/github.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { startFakeGitHub } from '../../cli/demo/github/server.ts';

test('owp github check reports what each token can and cannot do, writing nothing', async (t) => {
  const gh = await startFakeGitHub({
    tokens: [
      { token: 'ghp_good', login: 'owp-bot', permissions: { issues: 'write', pull_requests: 'read' } },
      { token: 'ghp_no_prs', login: 'owp-bot', permissions: { issues: 'read', pull_requests: 'none' } },
    ],
    repos: ['acme/site', 'acme/api'],
  });
  const dir = tempDir('owp-github-check-');
  const lines: string[] = [];
  t.mock.method(console, 'log', (line: string) => lines.push(line));
  try {
    const config = join(dir, 'owp.yml');
    writeFileSync(config, `github:\n  api_url: ${gh.url}\n  repos:\n    - repo: acme/site\n      token_env: OWP_CHECK_GOOD\n      comments: true\n    - repo: acme/api\n      token_env: OWP_CHECK_NO_PRS\n`);
    process.env.OWP_CHECK_GOOD = 'ghp_good';
    process.env.OWP_CHECK_NO_PRS = 'ghp_no_prs';
    assert.equal(await run(['check', '--config', config]), 1);
    const text = lines.join('\n');
    assert.match(text, /acme\/site\n {2}ok {3}read the repo\n {2}ok {3}read issues labelled owp\n {2}ok {3}read pull requests/);
    assert.match(text, /acme\/api[\s\S]*FAIL read pull requests — the token lacks "Pull requests: Read-only" \(403\)/);
    assert.match(text, /Issues: Read and write/);
    assert.ok(gh.state.requests.every((r) => r.method === 'GET'), 'the check writes nothing');
  } finally {
    delete process.env.OWP_CHECK_GOOD;
    delete process.env.OWP_CHECK_NO_PRS;
    rmSync(dir, { recursive: true, force: true });
    await gh.close();
  }
});
