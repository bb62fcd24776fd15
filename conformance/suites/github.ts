/**
 * Capability `github-sync` (SPEC §9.1): tasks come from GitHub issues and PR reports are verified
 * against GitHub (REPORT-005). The coordinator under test syncs a repo from the kit's GitHub-shaped
 * server (`owp conformance --github-repo R --github-port P`, its own configuration pointing there);
 * the kit files an issue and opens PRs on that server as a volunteer would.
 */
import type { Task } from '../../protocol/model.ts';
import { branchName, DEFAULT_BRANCH_TEMPLATE } from '../../protocol/branch-name.ts';
import { checkEqual, expectError, expectOk } from '../expect.ts';
import type { Suite } from '../types.ts';
import { FAST_SETTINGS, PASSING_GATES, type KitGitHub, type World } from '../world.ts';

const NEEDS_SERVER = 'needs the kit\'s GitHub-shaped server: pass --github-repo and --github-port, with the coordinator syncing that repo from it';

/** Files an issue and waits until the coordinator made it a task; the repo stays paused so nobody is offered it. */
async function taskFromIssue(world: World, gh: KitGitHub): Promise<{ task: Task; issue: number }> {
  await world.admin('repo.configure', { repo: gh.repo, ...FAST_SETTINGS, required_checks: [], paused: true });
  if (!world.run.repos.includes(gh.repo)) world.run.repos.push(gh.repo);
  const issue = gh.addIssue(`Conformance ${world.skill}: fix the typo`, 'Filed by the OWP conformance kit.');
  const task = await world.until(async () => {
    const { tasks } = await world.admin('task.list', { repo: gh.repo, limit: 1000 });
    return tasks.find((t) => t.issue?.number === issue);
  }, `issue #${issue} of ${gh.repo} became a task (is the coordinator syncing it from the kit's server?)`, 60_000);
  world.adopt(task.id);
  // Only this test's worker may take it.
  await world.admin('task.update', { task_id: task.id, skills: [world.skill] });
  await world.admin('repo.configure', { repo: gh.repo, paused: false });
  return { task: await world.getTask(task.id), issue };
}

export const SUITE: Suite = {
  area: 'github',
  tests: [
    {
      requirement: 'REPORT-005',
      title: 'a pr_opened whose PR is missing, by another author, on another branch or not referencing the issue is refused with PR_MISMATCH; the matching PR is accepted',
      capability: 'github-sync',
      appliesTo: (world) => (world.run.github ? undefined : NEEDS_SERVER),
      timeoutMs: 120_000,
      async run(world) {
        const gh = world.run.github as KitGitHub;
        const { task, issue } = await taskFromIssue(world, gh);
        const worker = await world.worker({ connect: false });
        const { lease } = expectOk<{ lease: { lease_id: string; epoch: number } }>(await worker.http('task.claim', { task_id: task.id }), 'task.claim of the synced task');
        const report = (url: string) => worker.http('lease.report', { lease_id: lease.lease_id, epoch: lease.epoch, state: 'pr_opened', pr: { url, gates: PASSING_GATES } });
        // Each PR from a head of its own: a repo has one open PR per head branch.
        const named = (slug: string): string => branchName(DEFAULT_BRANCH_TEMPLATE, { task_id: task.id, title: slug, issue_number: issue });
        const noReference = gh.openPull(worker.login, named('no reference'), task.title, 'No reference to the issue here.');
        const refusals: Array<[string, string]> = [
          ['a PR that does not exist', noReference.replace(/\d+$/, '999999')],
          ['a PR by another author', gh.openPull(`${worker.login}x`, named('another author'), task.title, `Closes #${issue}`)],
          ['a PR from a branch that does not follow the branch naming', gh.openPull(worker.login, `feature/${task.id}-elsewhere`, task.title, `Closes #${issue}`)],
          ['a PR that does not reference the issue', noReference],
        ];
        for (const [what, url] of refusals) {
          const error = expectError(await report(url), 'PR_MISMATCH', `pr_opened with ${what}`);
          checkEqual(Array.isArray(error.details?.mismatches) && (error.details?.mismatches as unknown[]).length > 0, true, `pr_opened with ${what}: details.mismatches lists the failed checks`);
        }
        const matching = gh.openPull(worker.login, named(task.title), task.title, `Closes #${issue}`);
        const accepted = expectOk<{ task: Task }>(await report(matching), 'pr_opened with the matching PR');
        checkEqual(accepted.task.state, 'pr_opened', 'the task after the matching PR');
      },
    },
  ],
};
