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
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

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

/** What the volunteer reads: which keys, why, and the command that removes each. */
export function unsafeSettingsMessage(dir: string, found: readonly UnsafeGitSetting[]): string {
  const keys = found.map((f) => `${f.key} (${f.why})`).join('; ');
  const fix = found.map((f) => `git config --${f.scope} --unset-all ${f.key}`).join(' && ');
  return `OWP runs no git in ${dir}: its own git config sets ${keys}, which would run on your machine. If you did not set this yourself, remove it (${fix}) and try again; a setting you need belongs in your ~/.gitconfig.`;
}

// ---- checking once per repository, again when its config changes -----------------------------

/** Runs git in a directory (client/git.ts's runner, without the check itself). */
export type RunGit = (cwd: string, args: readonly string[]) => Promise<string>;

/** A file's identity and last change, or "absent": a rewrite, a replacement or a new file all change it. */
function stampOf(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'absent';
  }
}

const INCLUDE_KEY = /^include(if\..+)?\.path$/;

/**
 * The repository-scoped settings OWP refuses, and every file they were read from or could be:
 * each local or worktree entry's origin, and the target of each include there (also one that does
 * not exist yet, so creating it is seen). Relative origins are relative to the top level, where
 * git reads its config from; a relative include to the including file's folder, as git resolves it.
 */
export function readRepoConfig(listing: string, toplevel: string): { unsafe: UnsafeGitSetting[]; files: string[] } {
  const unsafe: UnsafeGitSetting[] = [];
  const files = new Set<string>();
  const fields = listing.split('\0');
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const scope = fields[i] as string;
    if (scope !== 'local' && scope !== 'worktree') continue;
    const origin = (fields[i + 1] as string).startsWith('file:') ? resolve(toplevel, (fields[i + 1] as string).slice('file:'.length)) : undefined;
    if (origin) files.add(origin);
    const entry = fields[i + 2] as string;
    const newline = entry.indexOf('\n');
    const key = newline === -1 ? entry : entry.slice(0, newline);
    const value = newline === -1 ? '' : entry.slice(newline + 1);
    const hit = COMMAND_KEYS.find(([pattern]) => pattern.test(key));
    if (hit) unsafe.push({ scope, key, why: hit[1] });
    if (INCLUDE_KEY.test(key) && value) {
      const target = value.startsWith('~/') ? join(homedir(), value.slice(2)) : isAbsolute(value) ? value : origin ? resolve(dirname(origin), value) : undefined;
      if (target) files.add(target);
    }
  }
  return { unsafe, files: [...files] };
}

interface Checked {
  unsafe: UnsafeGitSetting[];
  /** The files the result depends on, with their stamps when it was read. */
  stamps: Map<string, string>;
  /** No stamp moved while git listed the config: the result may be reused until one does. */
  settled: boolean;
  toplevel: string;
  fixed: readonly string[];
}

/**
 * The check of client/git.ts, without a `git config --list` per git call: a repository's result
 * is reused while none of its config files changed (identity, size, modification and change times
 * to the nanosecond), so a setting added after the first call is still refused. Stamps are taken
 * before and after the listing; a result read while a file moved is not reused (a file the
 * listing names for the first time is read once more before its result is).
 */
export class RepoConfigCheck {
  private readonly checked = new Map<string, Checked>();

  constructor(
    private readonly run: RunGit,
    private readonly maxRepos = 256,
  ) {}

  async unsafe(cwd: string): Promise<UnsafeGitSetting[]> {
    const known = this.checked.get(cwd);
    if (known?.settled && [...known.stamps].every(([path, stamp]) => stampOf(path) === stamp)) return known.unsafe;
    const where = known ?? (await this.locate(cwd));
    const listed = (): Promise<string> => this.run(cwd, ['config', '--list', '--show-scope', '--show-origin', '-z']).catch(() => '');
    if (!where) return readRepoConfig(await listed(), cwd).unsafe;
    const before = new Map([...where.fixed, ...(known?.stamps.keys() ?? [])].map((path) => [path, stampOf(path)]));
    const { unsafe, files } = readRepoConfig(await listed(), where.toplevel);
    const stamps = new Map([...where.fixed, ...files].map((path) => [path, stampOf(path)]));
    // A file first seen in this listing settles it only while absent: what git read of it then is gone, or was nothing.
    const settled = [...stamps].every(([path, stamp]) => (before.get(path) ?? 'absent') === stamp);
    this.checked.delete(cwd);
    if (this.checked.size >= this.maxRepos) this.checked.delete(this.checked.keys().next().value as string);
    this.checked.set(cwd, { unsafe, stamps, settled, toplevel: where.toplevel, fixed: where.fixed });
    return unsafe;
  }

  /** The top level and the repository's own config files (also absent ones); undefined outside a work tree. */
  private async locate(cwd: string): Promise<{ toplevel: string; fixed: string[] } | undefined> {
    try {
      const [toplevel, ...fixed] = (await this.run(cwd, ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-path', 'config', '--git-path', 'config.worktree'])).trim().split('\n');
      return toplevel && fixed.length === 2 ? { toplevel, fixed } : undefined;
    } catch {
      return undefined;
    }
  }
}
