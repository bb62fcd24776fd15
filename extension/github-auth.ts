/**
 * The volunteer's GitHub token for opening PRs as themselves: a personal access token they saved
 * in SecretStorage, else VS Code's GitHub sign-in (GitHub Enterprise's when the API URL is not
 * github.com). OWP's coordinator never sees it.
 */
import * as vscode from 'vscode';
import { DEFAULT_GITHUB_API_URL, GITHUB_AUTH_PROVIDER, GITHUB_ENTERPRISE_AUTH_PROVIDER, GITHUB_SCOPES, STORAGE_KEYS } from './constants.ts';
import { encodeBound, secretFor } from './logic/secret-binding.ts';

function providerFor(githubApiUrl: string): string {
  return githubApiUrl.replace(/\/+$/, '') === DEFAULT_GITHUB_API_URL ? GITHUB_AUTH_PROVIDER : GITHUB_ENTERPRISE_AUTH_PROVIDER;
}

/** The signed-in GitHub account's login, without prompting; used to prefill the join flow. */
export async function signedInLogin(githubApiUrl: string): Promise<string | undefined> {
  try {
    const session = await vscode.authentication.getSession(providerFor(githubApiUrl), GITHUB_SCOPES, { silent: true });
    return session?.account.label;
  } catch {
    return undefined;
  }
}

/** Saves a token for one GitHub API host: it is never sent to another (logic/secret-binding.ts). */
export async function promptForToken(secrets: vscode.SecretStorage, githubApiUrl: string, scopes: readonly string[] = GITHUB_SCOPES): Promise<string | undefined> {
  const scope = scopes.includes('repo') ? '"repo" scope (this repository is private)' : '"public_repo" scope ("repo" only for private repositories)';
  const token = await vscode.window.showInputBox({
    title: `OWP: GitHub token for ${new URL(githubApiUrl).host}`,
    prompt: `A personal access token with ${scope}. OWP keeps it in VS Code's secret storage, for this GitHub host only, and uses it only to open your PRs.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim().length < 20 ? 'That does not look like a GitHub token.' : undefined),
  });
  if (!token) return undefined;
  await secrets.store(STORAGE_KEYS.githubToken, encodeBound(token.trim(), githubApiUrl));
  return token.trim();
}

/** The token saved for this API host (never one saved for another host), if any. */
async function savedToken(secrets: vscode.SecretStorage, githubApiUrl: string, warn: boolean): Promise<string | undefined> {
  // A token saved before binding was for github.com's API, the only host it was asked for then.
  const saved = secretFor(await secrets.get(STORAGE_KEYS.githubToken), githubApiUrl, 'GitHub token', DEFAULT_GITHUB_API_URL);
  if (saved && 'token' in saved) return saved.token;
  if (saved && warn) void vscode.window.showWarningMessage(`OWP: ${saved.refused}`);
  return undefined;
}

/** A token without asking: the one saved for this host, else a GitHub sign-in VS Code already has (either scope). */
export async function githubTokenWithoutAsking(secrets: vscode.SecretStorage, githubApiUrl: string): Promise<string | undefined> {
  const saved = await savedToken(secrets, githubApiUrl, false);
  if (saved) return saved;
  for (const scopes of [GITHUB_SCOPES, ['repo']]) {
    try {
      const session = await vscode.authentication.getSession(providerFor(githubApiUrl), scopes, { silent: true });
      if (session) return session.accessToken;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A token to open the PR with, asking the volunteer how to sign in when there is none yet.
 * `scopes`: what a sign-in asks for (logic/repo-visibility.ts: `repo` only for a private repository).
 */
export async function githubToken(secrets: vscode.SecretStorage, githubApiUrl: string, scopes: readonly string[] = GITHUB_SCOPES): Promise<string | undefined> {
  const saved = await savedToken(secrets, githubApiUrl, true);
  if (saved) return saved;
  const provider = providerFor(githubApiUrl);
  try {
    const session = await vscode.authentication.getSession(provider, [...scopes], { silent: true });
    if (session) return session.accessToken;
  } catch {
    // No such provider here (code-server, Cursor without GitHub sign-in): offer the token instead.
  }
  const signIn = 'Sign in with GitHub';
  const useToken = 'Use a token';
  const choice = await vscode.window.showInformationMessage('OWP opens the pull request as you. Sign in with GitHub, or save a personal access token.', { modal: true }, signIn, useToken);
  if (choice === useToken) return promptForToken(secrets, githubApiUrl, scopes);
  if (choice !== signIn) return undefined;
  try {
    const session = await vscode.authentication.getSession(provider, [...scopes], { createIfNone: true });
    return session.accessToken;
  } catch (error) {
    void vscode.window.showErrorMessage(`GitHub sign-in did not complete (${(error as Error).message}). Try again, or use "OWP: Set GitHub Token".`);
    return undefined;
  }
}
