/**
 * A connected repo's contract (`.owp.yml`) and policy (`.owp/policy.yml`), read from its default
 * branch through the contents API (Contents: read): at attach, on a `push` to the default branch,
 * and on every poll (conditional: an unmoved branch costs a 304 and nothing else). Valid files
 * become the repo's settings with `source` saying which commit is in force and where each setting
 * came from; the coordinator config's own settings for the repo win over the files (origin
 * `config`). An invalid file never replaces the last valid one: the settings stay, and
 * `source.rejected` lists each problem with its file, line and column (repo.get, the dashboard,
 * `owp github check`). The contract's `branch` becomes the PR branch naming checked on pr_opened
 * unless the github config sets one.
 */
import { createHash } from 'node:crypto';
import { CONTRACT_FILE, checkContractText } from '../../protocol/contract-schema.ts';
import type { FileProblem, RepoSource, SettingOrigin } from '../../protocol/model.ts';
import { POLICY_FILE } from '../../protocol/policy-schema.ts';
import { FileProblemsError } from '../../protocol/yaml-diagnostics.ts';
import { DEFAULT_BRANCH_TEMPLATE } from '../../protocol/branch-name.ts';
import { fileOrigins, settingsFromRepoFiles } from '../repo-files.ts';
import type { ConnectedRepo, IntegrationContext } from './context.ts';

export const REPO_FILES = [CONTRACT_FILE, POLICY_FILE];

/** FileProblemsError → the problems as RepoSource keeps them (errors only, bounded). */
export function problemsOf(error: FileProblemsError): FileProblem[] {
  return error.problems.flatMap((p) => p.diagnostics.map((d) => ({ file: p.file, line: d.start.line, column: d.start.column, message: d.message.slice(0, 2000), ...(d.hint ? { hint: d.hint.slice(0, 2000) } : {}) }))).slice(0, 50);
}

export class RepoFilesSync {
  /** The default branch's head whose files were last read (valid or not). */
  private readSha: string | undefined;

  constructor(
    private readonly repo: ConnectedRepo,
    private readonly ctx: IntegrationContext,
    /** Settings the coordinator's config gives this repo: they win over the files. */
    private readonly fromConfig: Record<string, unknown> = {},
  ) {}

  /** A push: re-read when it went to the default branch and touched one of the files (or GitHub left commits out). */
  pushed(payload: Record<string, unknown>): Promise<void> | undefined {
    const repository = payload.repository as { default_branch?: unknown } | undefined;
    if (payload.ref !== `refs/heads/${String(repository?.default_branch)}`) return undefined;
    const commits = Array.isArray(payload.commits) ? (payload.commits as Array<Record<string, unknown>>) : [];
    const paths = commits.flatMap((c) => ['added', 'modified', 'removed'].flatMap((k) => (Array.isArray(c[k]) ? (c[k] as unknown[]) : [])));
    // A push event lists at most 20 commits: with more, the files may have changed in one left out.
    if (commits.length < 20 && !paths.some((p) => REPO_FILES.includes(String(p)))) return undefined;
    return this.refresh();
  }

  /** Reads the files at the default branch's head, unless that head was read already (`force` reads anyway). */
  async refresh(force = false): Promise<void> {
    const { owner, name, client } = this.repo;
    const branch = await client.defaultBranch(owner, name);
    const { data: sha } = await client.branchHead(owner, name, branch);
    if (!force && sha === this.readSha) return;
    const [contract, policy] = await Promise.all([client.fileText(owner, name, CONTRACT_FILE, sha), client.fileText(owner, name, POLICY_FILE, sha)]);
    this.readSha = sha;
    const repoName = this.repo.config.repo;
    const stored = this.ctx.runtime?.engine.state.repos.get(repoName)?.settings.source;
    const now = Date.now();
    let settings;
    try {
      settings = settingsFromRepoFiles({ contract, policy });
    } catch (error) {
      if (!(error instanceof FileProblemsError)) throw error;
      const problems = problemsOf(error);
      // The last valid files stay in force; only the refusal is recorded.
      const source: RepoSource = { ...(stored ?? { from: 'github', ref: branch, read_at: now, files: [], origins: {} }), rejected: { sha, at: now, problems } };
      await this.ctx.call('repo.configure', { repo: repoName, source, idempotency_key: `github:files:${repoName}:rejected:${sha}` });
      this.ctx.log.error({ repo: repoName, sha, problems }, `${repoName}: ${error.message.split('\n')[0]} at ${sha.slice(0, 7)} on ${branch}; the last valid files stay in force`);
      return;
    }
    const given = Object.fromEntries(Object.entries(settings).filter(([key]) => !(key in this.fromConfig)));
    const origins: Record<string, SettingOrigin> = Object.fromEntries(Object.entries(fileOrigins(settings)).filter(([key]) => !(key in this.fromConfig)));
    for (const key of Object.keys(this.fromConfig)) origins[key] = 'config';
    const source: RepoSource = {
      from: 'github',
      ref: branch,
      sha,
      read_at: now,
      files: [{ path: CONTRACT_FILE, present: contract !== undefined }, { path: POLICY_FILE, present: policy !== undefined }],
      origins,
    };
    await this.ctx.call('repo.configure', { repo: repoName, ...given, ...this.fromConfig, source, idempotency_key: `github:files:${repoName}:${sha}:${createHash('sha256').update(JSON.stringify(this.fromConfig)).digest('hex').slice(0, 16)}` });
    if (!this.repo.config.branch_from_config) {
      const branchTemplate = contract === undefined ? undefined : checkContractText(contract).value?.branch;
      this.repo.config.branch = branchTemplate ?? DEFAULT_BRANCH_TEMPLATE;
    }
    this.ctx.log.info({ repo: repoName, sha, files: source.files }, `${repoName}: settings from ${branch} at ${sha.slice(0, 7)}`);
  }
}
