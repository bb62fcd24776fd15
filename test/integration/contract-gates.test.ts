/**
 * The coordinator reads a repo's contract and policy from a local checkout (coordinator config
 * `repos: [{ repo, checkout }]`), and the contract's gates decide what evidence a pr_opened needs.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startCoordinator } from '../../coordinator/server.ts';
import { HttpClient } from '../../client/http-client.ts';
import { WorkerClient } from '../../client/worker-client.ts';
import { OwpError } from '../../protocol/errors.ts';
import { FileProblemsError } from '../../protocol/yaml-diagnostics.ts';
import { folderWith } from '../helpers/files.ts';

const REPO = 'acme/site';


const CONTRACT = `version: 1
setup: npm ci
test: npm test
lint: npm run lint
gates: [tests, lint]
areas:
  docs: ["docs/**", "*.md"]
  core: ["src/**"]
safe_lanes: [docs]
`;

const POLICY = `version: 1
safe_lanes:
  below_trust: 1
budget:
  max_open_prs: 3
`;

async function openLease(url: string, taskId: string): Promise<{ worker: WorkerClient; leaseId: string }> {
  const { token } = await WorkerClient.register(url, {
    github_login: 'gatekeeper', skills: ['docs'], capacity: 2, tools: ['none'], capabilities: { can_run_tests: true, can_open_prs: true },
  });
  const worker = new WorkerClient({ url, token });
  await worker.connect();
  const { lease } = await worker.claim(taskId);
  return { worker, leaseId: lease.lease_id };
}

describe('contract gates on the coordinator', () => {
  test('gates from the checkout\'s .owp.yml refuse a pr_opened without evidence for each', async () => {
    const dir = folderWith({ '.owp.yml': CONTRACT, '.owp/policy.yml': POLICY });
    const started = await startCoordinator({ config: { store: 'memory', port: 0, repos: [{ repo: REPO, checkout: dir }] } });
    let worker: WorkerClient | undefined;
    try {
      const admin = new HttpClient({ baseUrl: started.url, token: started.adminToken });
      const { settings } = await admin.call('repo.get', { repo: REPO });
      assert.deepEqual(settings.required_gates, ['tests', 'lint']);
      assert.equal(settings.max_open_prs, 3, 'the policy budget became the repo setting');
      assert.deepEqual(settings.policy?.safe_lanes, { below_trust: 1, lanes: ['docs'] }, 'the contract\'s safe lanes fill the policy\'s');

      const { task } = await admin.call('task.create', { repo: REPO, title: 'Fix a typo', area: 'docs' });
      const opened = await openLease(started.url, task.id);
      worker = opened.worker;
      const pr = { url: 'https://github.com/acme/site/pull/7', number: 7 };

      const none = await worker.report(opened.leaseId, { state: 'pr_opened', pr: { ...pr, gates: [] } }).catch((e: unknown) => e);
      assert.ok(none instanceof OwpError);
      assert.equal(none.code, 'GATES_MISSING');
      assert.deepEqual(none.details?.missing, ['tests', 'lint']);

      const failedLint = await worker.report(opened.leaseId, {
        state: 'pr_opened',
        pr: { ...pr, gates: [{ name: 'tests', passed: true, command: 'npm test', exit_code: 0 }, { name: 'lint', passed: false, command: 'npm run lint', exit_code: 1 }] },
      }).catch((e: unknown) => e);
      assert.ok(failedLint instanceof OwpError);
      assert.equal(failedLint.code, 'GATES_MISSING');
      assert.deepEqual(failedLint.details?.missing, ['lint']);
      assert.equal((await admin.call('task.get', { task_id: task.id })).task.state, 'leased', 'a refused report changes nothing');

      const done = await worker.report(opened.leaseId, {
        state: 'pr_opened',
        pr: { ...pr, gates: [{ name: 'tests', passed: true, exit_code: 0 }, { name: 'lint', passed: true, exit_code: 0 }] },
      });
      assert.equal(done.task.state, 'pr_opened');
    } finally {
      worker?.close();
      await started.coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a contract with gates: [] lets a PR open without evidence', async () => {
    const dir = folderWith({ '.owp.yml': 'gates: []\n' });
    const started = await startCoordinator({ config: { store: 'memory', port: 0, repos: [{ repo: REPO, checkout: dir }] } });
    let worker: WorkerClient | undefined;
    try {
      const admin = new HttpClient({ baseUrl: started.url, token: started.adminToken });
      const { task } = await admin.call('task.create', { repo: REPO, title: 'Docs' });
      const opened = await openLease(started.url, task.id);
      worker = opened.worker;
      const done = await worker.report(opened.leaseId, { state: 'pr_opened', pr: { url: 'https://github.com/acme/site/pull/8', gates: [] } });
      assert.equal(done.task.state, 'pr_opened');
    } finally {
      worker?.close();
      await started.coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid file in the checkout stops the start with every error and its position', async () => {
    const dir = folderWith({ '.owp.yml': 'test: npm test\ngates: [tests, lintt]\n', '.owp/policy.yml': 'max_active_per_worker: 0\n' });
    try {
      const error = await startCoordinator({ config: { store: 'memory', port: 0, repos: [{ repo: REPO, checkout: dir }] } }).then(
        async (started) => {
          await started.coordinator.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(error instanceof FileProblemsError, String(error));
      assert.match(error.message, /\.owp\.yml:2:16: error: "gates\.1" must be one of/);
      assert.match(error.message, /Did you mean "lint"\?/);
      assert.match(error.message, /policy\.yml:1:24: error: "max_active_per_worker" must be at least 1, not 0\./);
      assert.equal(error.diagnostics.length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
