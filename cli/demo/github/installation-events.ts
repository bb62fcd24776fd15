/**
 * Changing which repositories a GitHub App installation reaches, as an owner does in the
 * installation's settings: GitHub then delivers `installation_repositories` (added / removed) to
 * the App's webhook, with the installation and the repositories, and no `repository` key.
 */
import { installationShape } from './ci-shapes.ts';
import type { FakeInstallation } from './model.ts';
import type { FakeGitHubState } from './state.ts';

export function changeInstallationRepos(state: FakeGitHubState, installationId: number, change: { add?: string[]; remove?: string[] }, by?: string): void {
  state.apps.changeRepositories(installationId, change, (installation, added, removed) => {
    const app = state.apps.apps.get(installation.app_id);
    const brief = (full: string): Record<string, unknown> => {
      const repo = state.repo(full);
      return { id: repo.id, node_id: `R_${repo.id}`, name: repo.name, full_name: `${repo.owner}/${repo.name}`, private: repo.private };
    };
    return {
      action: added.length > 0 ? 'added' : 'removed',
      installation: app ? installationShape(state, app, installation) : { id: installation.id },
      repository_selection: installation.repositories === 'all' ? 'all' : 'selected',
      repositories_added: added.map(brief),
      repositories_removed: removed.map(brief),
      requester: null,
      sender: state.shapes.user(by ?? installation.account),
    };
  });
}

/** The owner uninstalls the App from their account: GitHub delivers `installation` `deleted` with the installation and its repositories. */
export function uninstallApp(state: FakeGitHubState, installationId: number, by?: string): void {
  state.apps.uninstall(installationId, (installation) => installationPayload(state, installation, by));
}

/** The owner suspends (or unsuspends) the installation: `installation` `suspend` / `unsuspend`. */
export function suspendInstallation(state: FakeGitHubState, installationId: number, suspended: boolean, by?: string): void {
  const installation = state.apps.installations.get(installationId);
  state.apps.setSuspended(installationId, suspended, by ?? installation?.account ?? 'ghost', (i) => installationPayload(state, i, by));
}

function installationPayload(state: FakeGitHubState, installation: FakeInstallation, by?: string): Record<string, unknown> {
  const app = state.apps.apps.get(installation.app_id);
  const repositories = state.apps.reposOfInstallation(installation).map((full) => {
    const repo = state.repo(full);
    return { id: repo.id, node_id: `R_${repo.id}`, name: repo.name, full_name: `${repo.owner}/${repo.name}`, private: repo.private };
  });
  return {
    installation: app ? installationShape(state, app, installation) : { id: installation.id },
    repositories,
    requester: null,
    sender: state.shapes.user(by ?? installation.account),
  };
}
