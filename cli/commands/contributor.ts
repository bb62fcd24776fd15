/**
 * `owp contributor import FILE --repo R` and `owp contributor export [FILE] --repo R`: a repo's
 * vouch and denounce list to and from a Trustdown file (mitchellh/vouch's VOUCHED.td, as Ghostty
 * keeps it), so projects can share them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { formatVouchFile, parseVouchFile } from '../../protocol/vouch-file.ts';
import { UsageError } from '../args.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand } from '../file-report.ts';

export const USAGE = `Usage: owp contributor import FILE --repo OWNER/NAME [--dry-run] [--coordinator URL] [--token T]
       owp contributor export [FILE] --repo OWNER/NAME [--coordinator URL] [--token T]

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
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`);
  if (action !== 'import' && action !== 'export') throw new UsageError(`owp contributor needs an action: import or export.\n\n${USAGE}`);
  if (!values.repo) throw new UsageError(`owp contributor ${action} needs --repo OWNER/NAME.\n\n${USAGE}`);
  const repo = values.repo;
  const client = coordinatorClient(values, `owp contributor ${action}`);
  const { contributors } = await client.call('contributor.list', { repo });
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
