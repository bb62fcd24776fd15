/**
 * git config that runs commands, from the repository OWP works in. A repository's `.git/config`
 * (and the files it includes) is not the volunteer's: a directory handed over as a repo, or an AI
 * tool steered by a stranger's issue, can write it. Several keys there make git run a program on
 * the volunteer's machine (`core.fsmonitor` on nearly every command, hooks, filter and diff
 * drivers, `core.sshCommand`, credential helpers) or send the push, with its token, through
 * someone else's proxy.
 *
 * Two defences, both applied by `git()` (client/git.ts):
 * - **Overrides** on every call (`-c`, the command-line scope, wins over every file): no fsmonitor,
 *   no hooks. Neither has a meaning OWP needs, so they are turned off, not refused.
 * - **Refusal**: other command-running keys have legitimate per-user values (a volunteer's own
 *   `credential.helper` or `core.sshCommand` in ~/.gitconfig), so they cannot be blanked; when one
 *   is set at the repository's own scope (local or worktree, includes counted) OWP runs no git
 *   there and says which key to remove.
 */

/** Where git finds no hooks (an empty hooks directory would need creating). */
const NO_HOOKS = process.platform === 'win32' ? 'NUL' : '/dev/null';

/** `-c` options put before every git subcommand OWP runs. */
export const GIT_SAFETY_OVERRIDES: readonly string[] = ['-c', 'core.fsmonitor=false', '-c', `core.hooksPath=${NO_HOOKS}`];

/** Keys (lower-cased section and variable; a subsection keeps its case) that run a program or redirect credentials. */
const COMMAND_KEYS: ReadonlyArray<[RegExp, string]> = [
  [/^core\.(sshcommand|gitproxy|askpass)$/, 'runs a program'],
  [/^credential\.(.+\.)?helper$/, 'runs a credential helper'],
  [/^gpg\.(.+\.)?program$/, 'runs a signing program'],
  [/^filter\..+\.(clean|smudge|process)$/, 'runs a filter driver on add and checkout'],
  [/^diff\.external$|^diff\..+\.(textconv|command)$/, 'runs a diff driver'],
  [/^merge\..+\.driver$/, 'runs a merge driver'],
  [/^remote\..+\.(uploadpack|receivepack)$/, 'runs a program for fetch or push'],
  [/^protocol\.(.+\.)?allow$/, 'can allow ext:: remotes, which run commands'],
  [/^http\.(.+\.)?(proxy|sslverify|sslcainfo|sslcapath)$/, 'can route the push, and its token, through someone else'],
];

export interface UnsafeGitSetting {
  scope: string;
  key: string;
  why: string;
}

/** The repository-scoped settings in `git config --list --show-scope -z` output that OWP refuses. */
export function unsafeRepoSettings(listing: string): UnsafeGitSetting[] {
  const out: UnsafeGitSetting[] = [];
  const fields = listing.split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const scope = fields[i] as string;
    if (scope !== 'local' && scope !== 'worktree') continue;
    const entry = fields[i + 1] as string;
    const newline = entry.indexOf('\n');
    const key = newline === -1 ? entry : entry.slice(0, newline);
    const hit = COMMAND_KEYS.find(([pattern]) => pattern.test(key));
    if (hit) out.push({ scope, key, why: hit[1] });
  }
  return out;
}

/** What the volunteer reads: which keys, why, and the command that removes each. */
export function unsafeSettingsMessage(dir: string, found: readonly UnsafeGitSetting[]): string {
  const keys = found.map((f) => `${f.key} (${f.why})`).join('; ');
  const fix = found.map((f) => `git config --${f.scope} --unset-all ${f.key}`).join(' && ');
  return `OWP runs no git in ${dir}: its own git config sets ${keys}, which would run on your machine. If you did not set this yourself, remove it (${fix}) and try again; a setting you need belongs in your ~/.gitconfig.`;
}
