/**
 * `owp contributor import FILE --repo R` and `owp contributor export [FILE] --repo R`: a repo's
 * vouch and denounce list to and from a Trustdown file (mitchellh/vouch's VOUCHED.td, as Ghostty
 * keeps it), so projects can share them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { ContributorCapStanding } from '../../protocol/model.ts';
import { formatVouchFile, parseVouchFile } from '../../protocol/vouch-file.ts';
import { UsageError } from '../args.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand } from '../file-report.ts';
import { listAll } from '../../protocol/list-pages.ts';
import { standingLine } from './standing-line.ts';

export const USAGE = `Usage: owp contributor list --repo OWNER/NAME [--json] [--coordinator URL] [--token T]
       owp contributor import FILE --repo OWNER/NAME [--dry-run] [--coordinator URL] [--token T]
       owp contributor export [FILE] --repo OWNER/NAME [--coordinator URL] [--token T]

list     each contributor (GitHub login) in the repo as the scheduler counts them: open PRs
         (drafts apart), live leases and offers against their contributor_cap, the cap and
         how it grew, and whether the maintainers vouched for or denounced them.
import   reads a Trustdown vouch file (VOUCHED.td: one github:login per line, -github:login
         reason for a denouncement, # comments) and vouches for or denounces each login in
         the repo; logins whose standing is already the file's are left alone. Lines of
         other platforms are skipped and listed. --dry-run says what it would change.
export   writes the repo's vouched and denounced logins in the same format (to stdout
         without FILE).
Needs a maintainer token for the repo.
${COORDINATOR_FLAGS_USAGE}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    repo: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`);
  if (action !== 'import' && action !== 'export' && action !== 'list') throw new UsageError(`owp contributor needs an action: list, import or export.\n\n${USAGE}`);
  if (!values.repo) throw new UsageError(`owp contributor ${action} needs --repo OWNER/NAME.\n\n${USAGE}`);
  const repo = values.repo;
  const client = coordinatorClient(values, `owp contributor ${action}`);
  if (action === 'list') {
    if (file) throw new UsageError(`owp contributor list takes no FILE.\n\n${USAGE}`);
    const standings = await listAll((p) => client.call('policy.standings', p), 'policy.standings', { repo });
    if (values.json) console.log(JSON.stringify(standings, null, 2));
    else if (standings.length === 0) console.log(`${repo}: no contributor holds, opened or merged anything here, and nobody was vouched for or denounced`);
    else for (const line of standingLines(standings)) console.log(line);
    return 0;
  }
  const contributors = await listAll((p) => client.call('contributor.list', p), 'contributor.list', { repo });
  if (action === 'export') {
    const text = formatVouchFile(repo, contributors.map((c) => ({ login: c.login, status: c.status, ...(c.reason ? { reason: c.reason } : {}) })));
    if (file) {
      await writeFile(file, text);
      console.log(`${repo}: ${contributors.length} contributor(s) written to ${file}`);
    } else process.stdout.write(text);
    return 0;
  }
  if (!file) throw new UsageError(`owp contributor import needs the FILE to read.\n\n${USAGE}`);
  const { entries, skipped } = parseVouchFile(await readFile(file, 'utf8'));
  const current = new Map(contributors.map((c) => [c.login.toLowerCase(), c.status]));
  const changes = entries.filter((e) => current.get(e.login.toLowerCase()) !== e.status);
  for (const s of skipped) console.log(`skipped ${file}:${s.line}: ${s.why}`);
  for (const e of changes) {
    if (!values['dry-run']) {
      const reason = e.reason ?? `imported from ${file}`;
      if (e.status === 'denounced') await client.call('contributor.denounce', { repo, login: e.login, reason });
      else await client.call('contributor.vouch', { repo, login: e.login, reason });
    }
    console.log(`${values['dry-run'] ? 'would set' : 'set'} @${e.login} ${e.status}${e.reason ? `: ${e.reason}` : ''}`);
  }
  console.log(`${repo}: ${changes.length} change(s)${values['dry-run'] ? ' (dry run: nothing changed)' : ''}, ${entries.length - changes.length} already so, ${skipped.length} line(s) skipped`);
  return 0;
}

function standingLines(rows: readonly ContributorCapStanding[]): string[] {
  return [...rows].sort((a, b) => Number(b.at_cap) - Number(a.at_cap) || b.in_use - a.in_use || a.login.localeCompare(b.login)).map(standingLine);
}
