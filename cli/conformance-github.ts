/**
 * The GitHub-shaped server the kit starts for capability `github-sync` (cli/demo/github/, which
 * answers as GitHub documents): one repo, and a token for the coordinator under test, which its
 * own configuration points at this server. The kit files issues and opens PRs on it as people do.
 */
import { startFakeGitHub, type FakeGitHub } from './demo/github/server.ts';
import type { KitGitHub } from '../conformance/world.ts';
import { UsageError } from './args.ts';

export interface KitGitHubOptions {
  repo: string;
  port: number;
  /** The token the coordinator under test calls the API with (write on everything). */
  token: string;
  label: string;
}

export async function startKitGitHub(options: KitGitHubOptions): Promise<{ github: KitGitHub; server: FakeGitHub }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}\/[A-Za-z0-9_.-]{1,100}$/.test(options.repo)) throw new UsageError(`--github-repo must be owner/name, got "${options.repo}".`);
  // Its pages live at its own origin, as GitHub Enterprise's do next to its API: a coordinator pointed at it expects PR URLs there.
  const server = await startFakeGitHub({ port: options.port, htmlBaseUrl: `http://127.0.0.1:${options.port}`, tokens: [{ token: options.token, login: 'owp-conformance-bot' }], repos: [options.repo] });
  const github: KitGitHub = {
    repo: options.repo,
    label: options.label,
    addIssue: (title, body) => server.state.addIssue(options.repo, { title, body, labels: [options.label], user: 'conformance-maintainer' }),
    openPull: (login, head, title, body) => `${server.htmlUrl}/${options.repo}/pull/${server.state.openPull(options.repo, login, { head, title, body })}`,
  };
  return { github, server };
}
