/**
 * Secrets bound to the host they were made for, and the settings that decide where secrets go read
 * only from the volunteer's own settings.
 *
 * A cloned repository (or the AI tool working in it) can write `.vscode/settings.json`. If
 * `owp.coordinatorUrl` or `owp.githubApiUrl` were read from there, that file could send the
 * maintainer token or the GitHub token to any server. So those settings are `application`-scoped in the
 * manifest and read here from the user level only (a workspace value is ignored and reported), and
 * each saved secret carries the origin it was saved for: it is handed out only for that origin.
 */

/** How a secret is kept in SecretStorage: the token and the origin it belongs to. */
export interface BoundSecret {
  token: string;
  origin: string;
}

/** `https://api.github.com/` → `https://api.github.com`; undefined for what is not an http(s) URL. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

export function encodeBound(token: string, url: string): string {
  const origin = originOf(url);
  if (!origin) throw new Error(`"${url}" is not an http(s) URL; a secret is saved only for one.`);
  return JSON.stringify({ token, origin } satisfies BoundSecret);
}

export type SecretLookup = { token: string } | { refused: string } | undefined;

/**
 * The saved secret when it was saved for `url`'s origin. A secret saved before binding existed (a
 * bare string) counts as made for `legacyOrigin` (github.com's API for the GitHub token; none for
 * the maintainer token, which is then asked for again).
 */
export function secretFor(raw: string | undefined, url: string, what: string, legacyOrigin?: string): SecretLookup {
  if (!raw) return undefined;
  let bound: BoundSecret | undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as BoundSecret).token === 'string' && typeof (parsed as BoundSecret).origin === 'string') bound = parsed as BoundSecret;
  } catch {
    bound = undefined;
  }
  if (!bound) bound = legacyOrigin ? { token: raw, origin: legacyOrigin } : undefined;
  const target = originOf(url);
  if (!bound) return { refused: `The saved ${what} does not say which server it is for; save it again for ${target ?? url}.` };
  if (target !== bound.origin) return { refused: `The saved ${what} belongs to ${bound.origin}; OWP does not send it to ${target ?? url}. Save a ${what} for that server if you mean to use it.` };
  return { token: bound.token };
}

/** What `WorkspaceConfiguration.inspect` tells about one setting (the levels OWP looks at). */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The user's value, else the default; a workspace's value never wins. `ignored` names it when one was set. */
export function userLevelSetting<T>(inspected: Inspected<T> | undefined, fallback: T): { value: T; ignored?: T } {
  const value = inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
  const ignored = inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
  return ignored !== undefined && JSON.stringify(ignored) !== JSON.stringify(value) ? { value, ignored } : { value };
}

/**
 * GitHub scopes to ask for: `public_repo` is enough for a public repository (push to a fork or a
 * branch, open a PR); `repo` (every private repository too) only when the repository is private.
 */
export function githubScopes(privateRepo: boolean): string[] {
  return privateRepo ? ['repo'] : ['public_repo'];
}
