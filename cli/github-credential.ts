/**
 * Where `owp submit` gets the volunteer's GitHub token, and where it may send it.
 *
 * Sources, first found wins: `--github-token-file PATH` or `--github-token -` (stdin); a literal
 * `--github-token VALUE` still works but warns (argv is visible to other local users and lands in
 * shell history); `$OWP_GITHUB_TOKEN`; `$GITHUB_TOKEN` / `$GH_TOKEN`; `gh auth token --hostname H`.
 *
 * Binding: a token from the environment or from gh for github.com is sent only to
 * https://api.github.com. When the API host was derived from the origin remote (which names any
 * host), a token is sent there only if it was given for it on purpose: `--github-api`,
 * `$OWP_GITHUB_API_URL`, a flag/file token, or gh's token for that very host.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { childEnv } from '../client/child-env.ts';
import { GITHUB_API_URL } from '../client/github-api.ts';
import { CliError } from './args.ts';
import type { Output } from './output.ts';

export interface CredentialFlags {
  token?: string;
  tokenFile?: string;
  /** The API URL was given by the volunteer (--github-api or $OWP_GITHUB_API_URL), not derived from the remote. */
  apiGiven: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function ghToken(host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('gh', ['auth', 'token', '--hostname', host], { timeout: 10_000, env: childEnv(process.env, { pass: ['GH_CONFIG_DIR'] }) }, (error, stdout) => resolve(error ? undefined : String(stdout).trim() || undefined));
  });
}

/** The token for apiBaseUrl, or undefined when there is none; throws when the only token belongs elsewhere. */
export async function githubCredential(apiBaseUrl: string, flags: CredentialFlags, out: Output): Promise<string | undefined> {
  const host = new URL(apiBaseUrl).host;
  const isDotCom = apiBaseUrl.replace(/\/+$/, '') === GITHUB_API_URL;
  const ghHost = isDotCom ? 'github.com' : host;
  if (flags.tokenFile) return (await readFile(flags.tokenFile, 'utf8')).trim() || undefined;
  if (flags.token === '-') return (await readStdin()).trim() || undefined;
  if (flags.token) {
    out.warn('--github-token VALUE puts the token in the process list and your shell history; prefer $OWP_GITHUB_TOKEN, `gh auth login`, --github-token-file PATH or --github-token - (stdin).');
    return flags.token;
  }
  const fromEnv = process.env.OWP_GITHUB_TOKEN ?? process.env.GITHUB_TOKEN ?? process.env.GH_TOKEN;
  if (fromEnv) {
    if (!isDotCom && !flags.apiGiven) {
      throw new CliError(`The origin remote points at ${host}, and the token in your environment is for github.com: OWP does not send it to another host. Pass --github-api https://${host}/api/v3 (or set OWP_GITHUB_API_URL) if that token is meant for ${host}.`);
    }
    return fromEnv;
  }
  return ghToken(ghHost);
}
