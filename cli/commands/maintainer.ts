/** `owp maintainer create|revoke|list`: maintainer tokens, with the admin token (SPEC §5.9, AUTH-009). */
import { UsageError } from '../args.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand } from '../file-report.ts';
import { listAll } from '../../protocol/list-pages.ts';

export const USAGE = `Usage: owp maintainer create --name NAME --repos OWNER/NAME[,OWNER/*…] [--json]
       owp maintainer revoke M-n [--reason TEXT] [--json]
       owp maintainer list [--json]

create  issues a maintainer token scoped to those repos; it is printed once (only its hash is kept).
revoke  ends a maintainer token at once, on every binding; its open sockets are closed.
list    every maintainer: id, name, repos, revoked or not (never a token).
The admin token is needed: set OWP_TOKEN to it (rather than --token, which other local users can
see in the process list). To replace the admin token itself, restart the coordinator with a new
OWP_ADMIN_TOKEN: the old one stops working.
${COORDINATOR_FLAGS_USAGE}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    name: { type: 'string' },
    repos: { type: 'string' },
    reason: { type: 'string' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  const print = (data: unknown, text: string): void => console.log(values.json ? JSON.stringify(data) : text);
  if (action === 'create') {
    if (!values.name || !values.repos || rest.length > 0) throw new UsageError(`maintainer create needs --name and --repos.\n\n${USAGE}`);
    const repos = values.repos.split(',').map((r) => r.trim()).filter(Boolean);
    const created = await coordinatorClient(values, 'owp maintainer create').call('maintainer.create', { name: values.name, repos });
    print(created, `${created.maintainer.id} (${created.maintainer.name}) for ${created.maintainer.repos.join(', ')}\ntoken (shown once; give it to the maintainer over a private channel):\n${created.token}`);
    return 0;
  }
  if (action === 'revoke') {
    const [id, ...extra] = rest;
    if (!id || extra.length > 0) throw new UsageError(`maintainer revoke needs one maintainer id (M-n; owp maintainer list shows them).\n\n${USAGE}`);
    const { maintainer } = await coordinatorClient(values, 'owp maintainer revoke').call('maintainer.revoke', { maintainer_id: id, ...(values.reason ? { reason: values.reason } : {}) });
    print({ maintainer }, `${maintainer.id} (${maintainer.name}) revoked: its token no longer works.`);
    return 0;
  }
  if (action === 'list') {
    const client = coordinatorClient(values, 'owp maintainer list');
    const maintainers = await listAll((p) => client.call('maintainer.list', p), 'maintainer.list', {});
    print({ maintainers }, maintainers.map((m) => `${m.id}  ${m.name}  ${m.repos.join(',')}${m.revoked ? '  (revoked)' : ''}${m.bootstrap ? '  (admin)' : ''}`).join('\n'));
    return 0;
  }
  throw new UsageError(`owp maintainer needs an action: create, revoke or list.\n\n${USAGE}`);
}
