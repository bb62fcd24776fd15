/**
 * What every part of the GitHub integration shares: the runtime it acts on (always as the admin
 * principal, through the same validated operations a maintainer would call), the config, the
 * durable sync state and one GitHub client per connected repo.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { OperationName, Params, Result } from '../../protocol/operations.ts';
import { validateParams } from '../../protocol/validate.ts';
import type { Principal } from '../auth.ts';
import type { Runtime } from '../runtime.ts';
import type { TaskRecord } from '../state/records.ts';
import type { GitHubClient } from './client.ts';
import type { GitHubConfig, GitHubRepoConfig } from './config.ts';
import type { SyncState } from './sync-state.ts';
import type { Logger } from '../log.ts';

export interface ConnectedRepo {
  config: GitHubRepoConfig;
  owner: string;
  name: string;
  client: GitHubClient;
}

/** A repo the coordinator can no longer reach: its App installation was uninstalled or suspended. */
export interface Disconnection {
  reason: 'app_uninstalled' | 'app_suspended';
  at: number;
  installation_id: number;
}

export class IntegrationContext {
  runtime: Runtime | undefined;
  admin: Principal | undefined;
  private readonly byName = new Map<string, ConnectedRepo>();
  /** Repos (lower-case) that were connected and no longer are; PR reports there cannot be verified. */
  readonly disconnected = new Map<string, Disconnection>();

  constructor(
    readonly config: GitHubConfig,
    readonly state: SyncState,
    repos: ConnectedRepo[],
    readonly log: Logger,
  ) {
    for (const r of repos) this.byName.set(r.config.repo.toLowerCase(), r);
  }

  /** The connected repo for an OWP repo id or a GitHub full_name (case-insensitive), if any. */
  repo(name: string | undefined): ConnectedRepo | undefined {
    return name ? this.byName.get(name.toLowerCase()) : undefined;
  }

  /** Connects a repo (an App installation gained it); a repo connected already keeps its entry. */
  add(repo: ConnectedRepo): void {
    if (!this.byName.has(repo.config.repo.toLowerCase())) this.byName.set(repo.config.repo.toLowerCase(), repo);
  }

  /** Stops following a repo (an App installation lost it); its tasks stay as they are. */
  remove(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  repos(): ConnectedRepo[] {
    return [...this.byName.values()];
  }

  attached(): { runtime: Runtime; admin: Principal } {
    if (!this.runtime || !this.admin) throw new OwpError('UNAVAILABLE', 'The GitHub integration is not attached to a coordinator yet.');
    return { runtime: this.runtime, admin: this.admin };
  }

  /** Calls an operation as the admin, validated like any request; throws the refusal as an OwpError. */
  async call<N extends OperationName>(name: N, params: Omit<Params<N>, 'idempotency_key'> & { idempotency_key?: string }): Promise<Result<N>> {
    const { runtime, admin } = this.attached();
    validateParams(name, params);
    const ack = await runtime.call(admin, name, params as Record<string, unknown>);
    if (!ack.ok) throw new OwpError(ack.error.code as never, ack.error.message, ack.error.details);
    return ack.data as Result<N>;
  }

  task(taskId: string): TaskRecord | undefined {
    return this.runtime?.engine.state.tasks.get(taskId);
  }

  tasksOf(repo: string): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const t of this.runtime?.engine.state.tasks.values() ?? []) if (t.repo === repo) out.push(t);
    return out;
  }

  login(workerId: string | undefined): string | undefined {
    return workerId ? this.runtime?.engine.state.workers.get(workerId)?.record.github_login : undefined;
  }
}

/** The number of the PR a task reported, from pr.number or its URL in this repo. */
export function prNumberOf(task: TaskRecord, repo: ConnectedRepo, webUrl: string): number | undefined {
  if (!task.pr) return undefined;
  if (task.pr.number) return task.pr.number;
  return parsePullUrl(task.pr.url, repo, webUrl);
}

/** `https://github.com/acme/site/pull/12` → 12 when it is a PR of this repo on this host. */
export function parsePullUrl(url: string, repo: ConnectedRepo, webUrl: string): number | undefined {
  const prefix = `${webUrl}/`.toLowerCase();
  if (!url.toLowerCase().startsWith(prefix)) return undefined;
  const m = /^([^/]+)\/([^/]+)\/pull\/([1-9][0-9]{0,11})\/?(?:[?#].*)?$/.exec(url.slice(prefix.length));
  if (!m) return undefined;
  if ((m[1] as string).toLowerCase() !== repo.owner.toLowerCase() || (m[2] as string).toLowerCase() !== repo.name.toLowerCase()) return undefined;
  return Number(m[3]);
}
