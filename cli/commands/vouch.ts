/**
 * `owp vouch @login --repo R`, `owp denounce @login --repo R --reason …` and
 * `owp vouch --list --repo R`: a repo's maintainers stand for a contributor (policy rule
 * vouch_required) or denounce them (rule denounced: never offered work there again).
 */
import type { ContributorStanding } from '../../protocol/model.ts';
import { UsageError } from '../args.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand } from '../file-report.ts';
import { listAll } from '../../protocol/list-pages.ts';

export const USAGE = `Usage: owp vouch @LOGIN --repo OWNER/NAME [--reason TEXT] [--coordinator URL] [--token T]
       owp denounce @LOGIN --repo OWNER/NAME --reason TEXT [--coordinator URL] [--token T]
       owp vouch --list --repo OWNER/NAME [--json] [--coordinator URL] [--token T]

vouch     the repo's maintainers stand for this contributor: tasks the policy keeps for
          vouched contributors (vouch: { from_tier: N }) may go to them. Replaces a
          denouncement.
denounce  the contributor's workers are never offered work in the repo again and lose their
          open offers there. Replaces a vouch.
--list    every contributor the repo's maintainers vouched for or denounced.
Needs a maintainer token for the repo.
${COORDINATOR_FLAGS_USAGE}`;

export function run(argv: string[]): Promise<number> {
  return standing('vouch', argv);
}

export async function standing(action: 'vouch' | 'denounce', argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    repo: { type: 'string' },
    reason: { type: 'string' },
    list: { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (!values.repo) throw new UsageError(`owp ${action} needs --repo OWNER/NAME.\n\n${USAGE}`);
  const client = coordinatorClient(values, `owp ${action}`);
  if (values.list) {
    if (positionals.length > 0) throw new UsageError(`--list takes no login.\n\n${USAGE}`);
    const contributors = await listAll((p) => client.call('contributor.list', p), 'contributor.list', { repo: values.repo });
    if (values.json) console.log(JSON.stringify(contributors, null, 2));
    else if (contributors.length === 0) console.log(`${values.repo}: nobody vouched for or denounced yet`);
    else for (const c of contributors) console.log(describe(c));
    return 0;
  }
  const [who, ...extra] = positionals;
  if (!who || extra.length > 0) throw new UsageError(`owp ${action} needs one GitHub login (@login).\n\n${USAGE}`);
  const login = who.replace(/^@/, '');
  if (action === 'denounce') {
    if (!values.reason) throw new UsageError(`owp denounce needs --reason TEXT: the list is shared, so say why.\n\n${USAGE}`);
    const { contributor } = await client.call('contributor.denounce', { repo: values.repo, login, reason: values.reason });
    console.log(`${values.repo}: ${describe(contributor)}`);
    return 0;
  }
  const { contributor } = await client.call('contributor.vouch', { repo: values.repo, login, ...(values.reason !== undefined ? { reason: values.reason } : {}) });
  console.log(`${values.repo}: ${describe(contributor)}`);
  return 0;
}

function describe(c: ContributorStanding): string {
  return `@${c.login} ${c.status} by ${c.by}${c.reason ? `: ${c.reason}` : ''}`;
}
