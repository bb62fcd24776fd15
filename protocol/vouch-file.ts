/**
 * Vouch lists in the Trustdown format of mitchellh/vouch (Ghostty's `VOUCHED.td`), so projects
 * share who they vouch for and whom they denounce: one handle per line, `platform:username` or a
 * bare username, a leading `-` for a denouncement, anything after the first space as details (the
 * reason), `#` comments and blank lines. OWP knows GitHub logins only: other platforms are skipped
 * on import and named in the result. Pure.
 */
import { GITHUB_LOGIN_PATTERN } from './policy-schema.ts';

export interface VouchEntry {
  login: string;
  status: 'vouched' | 'denounced';
  reason?: string;
}

export interface ParsedVouchFile {
  entries: VouchEntry[];
  /** Lines that name no GitHub login (another platform, a malformed handle), with why. */
  skipped: Array<{ line: number; text: string; why: string }>;
}

const LOGIN = new RegExp(GITHUB_LOGIN_PATTERN);

export function parseVouchFile(text: string): ParsedVouchFile {
  const entries = new Map<string, VouchEntry>();
  const skipped: ParsedVouchFile['skipped'] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const denounce = line.startsWith('-');
    const rest = denounce ? line.slice(1) : line;
    const space = rest.indexOf(' ');
    const handle = space < 0 ? rest : rest.slice(0, space);
    const details = space < 0 ? undefined : rest.slice(space + 1).trim() || undefined;
    const colon = handle.indexOf(':');
    const platform = colon < 0 ? undefined : handle.slice(0, colon);
    const username = colon < 0 ? handle : handle.slice(colon + 1);
    if (platform !== undefined && platform.toLowerCase() !== 'github') {
      skipped.push({ line: index + 1, text: line, why: `platform ${platform} is not GitHub` });
      return;
    }
    if (!LOGIN.test(username)) {
      skipped.push({ line: index + 1, text: line, why: `"${username}" is not a GitHub login` });
      return;
    }
    // The last line about a login wins, as the latest word does in OWP.
    entries.delete(username.toLowerCase());
    entries.set(username.toLowerCase(), { login: username, status: denounce ? 'denounced' : 'vouched', ...(details ? { reason: details.slice(0, 500) } : {}) });
  });
  return { entries: [...entries.values()], skipped };
}

/** A repo's standings as a Trustdown file: vouched first, then denounced, each by login. */
export function formatVouchFile(repo: string, standings: readonly VouchEntry[]): string {
  const line = (e: VouchEntry): string => `${e.status === 'denounced' ? '-' : ''}github:${e.login}${e.reason ? ` ${e.reason.replace(/\s+/g, ' ').trim()}` : ''}`;
  const by = (status: VouchEntry['status']) => standings.filter((e) => e.status === status).sort((a, b) => a.login.localeCompare(b.login)).map(line);
  return [`# Vouched and denounced contributors of ${repo}, exported by OWP (owp contributor export).`, '# Format: Trustdown, as mitchellh/vouch reads it (VOUCHED.td).', ...by('vouched'), ...by('denounced'), ''].join('\n');
}
