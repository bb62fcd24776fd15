/**
 * `owp policy validate [FILE]`, `owp policy apply [FILE] --repo R` and
 * `owp policy explain --task T --worker W`: the repo policy (.owp/policy.yml) and its dry run.
 */
import { dirname, join } from 'node:path';
import { CONTRACT_FILE } from '../../protocol/contract-schema.ts';
import { POLICY_FILE, checkPolicyText } from '../../protocol/policy-schema.ts';
import type { ContributorCapStanding, Reasoned } from '../../protocol/model.ts';
import { listAll } from '../../protocol/list-pages.ts';
import { standingLine } from './standing-line.ts';
import { OwpError } from '../../protocol/errors.ts';
import { readIfPresent, settingsFromRepoFiles } from '../../coordinator/repo-files.ts';
import { UsageError } from '../args.ts';
import { EXIT } from '../exit-codes.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand, orReport, readFileText, validateFile } from '../file-report.ts';

export const USAGE = `Usage: owp policy validate [FILE] [--json]
       owp policy apply [FILE] --repo OWNER/NAME [--contract FILE] [--coordinator URL] [--token T]
       owp policy explain --task T-n --worker W-n [--coordinator URL] [--token T] [--json]

validate  checks a repo policy (default ./${POLICY_FILE}) and reports every problem as
          FILE:LINE:COLUMN with a hint; exits 1 when it has errors (warnings do not fail).
apply     stores the policy in the repo's settings on the coordinator (its budget sets
          max_open_prs / max_new_prs_per_hour). The contract next to it (or --contract FILE)
          fills the policy's safe lanes when it names none and sets required_gates.
explain   dry run: which of the repo's policy rules pass or fail for that task and worker,
          plus every other reason it could not be offered. Exits 0 when the worker could
          take the task now, 1 when something refuses it, 2 on bad usage (no token, a
          missing flag), 3 when the coordinator cannot be reached, 4 when the token is
          refused, 5 when the task or worker does not exist.
${COORDINATOR_FLAGS_USAGE}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    json: { type: 'boolean' },
    repo: { type: 'string' },
    contract: { type: 'string' },
    task: { type: 'string' },
    worker: { type: 'string' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file = POLICY_FILE, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`);
  switch (action) {
    case 'validate':
      return validateFile(file, 'policy', checkPolicyText, values.json);
    case 'apply': {
      if (!values.repo) throw new UsageError(`policy apply needs --repo OWNER/NAME.\n\n${USAGE}`);
      const policy = await readFileText(file, 'policy');
      // The policy sits in .owp/ at the repo root, so the contract is one folder up.
      const contractFile = values.contract ?? join(dirname(file), '..', CONTRACT_FILE);
      const contract = values.contract !== undefined ? await readFileText(contractFile, 'contract') : await readIfPresent(contractFile);
      const settings = orReport(() => settingsFromRepoFiles({ policy, contract }, { policy: file, contract: contractFile }));
      if (!settings) return 1;
      const client = coordinatorClient(values, 'owp policy apply');
      const result = await client.call('repo.configure', { repo: values.repo, ...settings });
      console.log(`${values.repo}: policy applied; max_open_prs ${result.settings.max_open_prs}, max_new_prs_per_hour ${result.settings.max_new_prs_per_hour}, required_gates [${result.settings.required_gates.join(', ')}]`);
      return 0;
    }
    case 'explain':
      return explain(values);
    default:
      throw new UsageError(`owp policy needs an action: validate, apply or explain.\n\n${USAGE}`);
  }
}

async function explain(values: { task?: string | undefined; worker?: string | undefined; coordinator?: string | undefined; token?: string | undefined; json?: boolean | undefined }): Promise<number> {
  if (!values.task || !values.worker) throw new UsageError(`policy explain needs --task T-n and --worker W-n.\n\n${USAGE}`);
  const client = coordinatorClient(values, 'owp policy explain');
  const [explained, { task }] = await Promise.all([
    client.call('task.explain', { task_id: values.task, worker_id: values.worker }),
    client.call('task.get', { task_id: values.task }),
  ]);
  const verdicts = explained.policy;
  if (!verdicts) throw new OwpError('NOT_FOUND', `The coordinator knows no worker ${values.worker}. List workers with a maintainer token (worker.list).`);
  // Reasons besides the policy: repo-level ones directly, worker-level ones inside no_eligible_worker.
  // Being offline stops offers, not claims, so it is a note rather than a refusal.
  const others: Reasoned[] = [];
  let offline = false;
  for (const reason of explained.reasons) {
    const inner = reason.code === 'no_eligible_worker' ? ((reason.details?.reasons as Reasoned[] | undefined) ?? []) : [reason];
    for (const r of inner) {
      if (r.code === 'offline') offline = true;
      else if (!r.code.startsWith('policy') && !r.code.startsWith('budget')) others.push({ code: r.code, message: r.message });
    }
  }
  // A rule in report mode that does not pass would refuse, but does not.
  const failing = verdicts.filter((v) => !v.passed && v.mode !== 'report').map((v) => v.rule);
  const canTake = failing.length === 0 && others.length === 0;
  if (values.json) {
    const standing = await contributorStanding(client, task.repo, values.worker);
    console.log(JSON.stringify({ task_id: task.id, worker_id: values.worker, can_take: canTake, policy: verdicts, other_reasons: others, ...(standing ? { contributor: standing } : {}) }, null, 2));
    return canTake ? EXIT.ok : EXIT.failed;
  }
  const width = Math.max(4, ...verdicts.map((v) => v.rule.length));
  console.log(`Task ${task.id} in ${task.repo} (area ${task.area ?? 'none'}, tier ${task.tier}, ${task.state}) for worker ${values.worker}:`);
  if (verdicts.length === 0) console.log('  (the repo has no policy rules)');
  for (const v of verdicts) console.log(`  ${v.passed ? 'pass' : v.mode === 'report' ? 'WOULD' : 'FAIL'}  ${v.rule.padEnd(width)}  ${v.message}${v.mode === 'report' ? ' (report mode: not enforced)' : ''}`);
  if (others.length > 0) {
    console.log('Other checks that refuse it:');
    for (const r of others) console.log(`  FAIL  ${r.code.padEnd(width)}  ${r.message}`);
  }
  const standing = await contributorStanding(client, task.repo, values.worker);
  if (standing) console.log(`Contributor: ${standingLine(standing)}`);
  if (offline) console.log(`Note: ${values.worker} is offline, so it gets no offers until it connects; a claim is judged by the checks above.`);
  console.log(canTake
    ? `${values.worker} could take ${task.id} now.`
    : `${values.worker} cannot take ${task.id} now${failing.length > 0 ? ` (policy rules failing: ${failing.join(', ')})` : ''}.`);
  return canTake ? EXIT.ok : EXIT.failed;
}

/**
 * The worker's contributor as the scheduler counts them (policy.standings), found by the worker's
 * login; undefined when the login holds and did nothing here (or the token cannot list workers).
 */
async function contributorStanding(client: ReturnType<typeof coordinatorClient>, repo: string, workerId: string): Promise<ContributorCapStanding | undefined> {
  const workers = await listAll((p) => client.call('worker.list', p), 'worker.list', {}).catch(() => []);
  const login = workers.find((w) => w.id === workerId)?.github_login.toLowerCase();
  if (!login) return undefined;
  const standings = await listAll((p) => client.call('policy.standings', p), 'policy.standings', { repo });
  return standings.find((r) => r.login.toLowerCase() === login);
}
