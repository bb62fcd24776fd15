import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONTRACT, type RepoContract } from '../../client/contract.ts';
import { runGates } from '../../client/gates.ts';
import type { PullRequestInfo } from '../../protocol/model.ts';
import { gateFailureMessage, submitPullRequest, type SubmitSteps } from '../../extension/logic/submit-flow.ts';

function contract(fields: Partial<RepoContract>): RepoContract {
  return { ...structuredClone(DEFAULT_CONTRACT), ...fields };
}

/** Real gates in a temp folder; push, PR and report record what ran and can be made to fail. */
function steps(dir: string, c: RepoContract, failures: { push?: boolean; pr?: boolean; report?: boolean } = {}) {
  const ran: string[] = [];
  const reported: PullRequestInfo[] = [];
  const s: SubmitSteps = {
    branch: 'owp/T-1-fix',
    requiredGates: c.gates,
    runGates: () => {
      ran.push('gates');
      return runGates({ repoDir: dir, contract: c, timeoutMs: 30_000 });
    },
    push: async () => {
      ran.push('push');
      if (failures.push) throw new Error('remote: Permission denied');
    },
    openPullRequest: async () => {
      ran.push('pr');
      if (failures.pr) throw new Error('GitHub rejected your token (401).');
      return { url: 'https://github.com/acme/site/pull/9', number: 9 };
    },
    report: async (pr) => {
      ran.push('report');
      if (failures.report) throw new Error('coordinator unreachable');
      reported.push(pr);
    },
    now: () => 42,
  };
  return { s, ran, reported };
}

describe('extension Submit PR order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-submit-'));
  const passing = contract({ test: ['node -e "console.log(\'ok\')"'], gates: ['tests'] });

  test('passing gates are pushed, opened and reported with their evidence', async () => {
    const { s, ran, reported } = steps(dir, passing);
    const outcome = await submitPullRequest(s);
    assert.equal(outcome.step, 'done');
    assert.deepEqual(ran, ['gates', 'push', 'pr', 'report']);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.url, 'https://github.com/acme/site/pull/9');
    assert.equal(reported[0]!.number, 9);
    assert.equal(reported[0]!.branch, 'owp/T-1-fix');
    assert.equal(reported[0]!.opened_at, 42);
    assert.deepEqual(reported[0]!.gates.map((g) => [g.name, g.passed]), [['tests', true]]);
  });

  test('a failing gate stops before anything leaves the machine, and the message names it', async () => {
    const failing = contract({ test: ['node -e "console.error(\'boom\'); process.exit(3)"'], gates: ['tests'] });
    const { s, ran } = steps(dir, failing);
    const outcome = await submitPullRequest(s);
    assert.equal(outcome.step, 'gates');
    assert.deepEqual(ran, ['gates']);
    if (outcome.step !== 'gates') return;
    assert.match(gateFailureMessage(outcome), /^tests failed: `node -e .*` exited with code 3$/);
  });

  test('a required gate with no command counts as missing, not as passed', async () => {
    const { s, ran } = steps(dir, contract({ test: [], gates: ['tests'] }));
    const outcome = await submitPullRequest(s);
    assert.equal(outcome.step, 'gates');
    assert.deepEqual(ran, ['gates']);
  });

  test('a refused push opens no PR; a failed PR reports nothing; a failed report keeps the PR for a retry', async () => {
    const push = steps(dir, passing, { push: true });
    const pushOutcome = await submitPullRequest(push.s);
    assert.equal(pushOutcome.step, 'push');
    assert.deepEqual(push.ran, ['gates', 'push']);

    const pr = steps(dir, passing, { pr: true });
    const prOutcome = await submitPullRequest(pr.s);
    assert.equal(prOutcome.step, 'pull-request');
    assert.deepEqual(pr.ran, ['gates', 'push', 'pr']);

    const report = steps(dir, passing, { report: true });
    const reportOutcome = await submitPullRequest(report.s);
    assert.equal(reportOutcome.step, 'report');
    if (reportOutcome.step === 'report') assert.equal(reportOutcome.pr.url, 'https://github.com/acme/site/pull/9');
  });

  test.after(() => rmSync(dir, { recursive: true, force: true }));
});
