/**
 * Where the dashboard finds its coordinator and token.
 *
 * - Served by the coordinator: the coordinator is the page's own origin. A token arrives once in
 *   the URL fragment (`/#token=…`, printed by `owp coordinator`; fragments are never sent to a
 *   server), is kept in sessionStorage for this tab, and is removed from the address bar at once.
 *   Without a token the page shows the public parts read-only, and offers a sign-in field.
 * - In a VS Code webview (or any host page): the host sets `data-coordinator-url` and
 *   `data-token` on the dashboard's script tag (shell.ts builds that page), or defines `window.OWP_DASHBOARD = { coordinatorUrl, token }`
 *   in a nonce'd script before it. Host-given tokens are not stored.
 */
import { DASHBOARD_DATA } from './shell.ts';

export interface DashboardConfig {
  coordinatorUrl: string;
  token: string | undefined;
  /** Whether the host gave the token (then the page offers no sign-out or storage). */
  hostProvided: boolean;
}

declare global {
  interface Window {
    OWP_DASHBOARD?: { coordinatorUrl?: string; token?: string };
  }
}

export const TOKEN_STORAGE_KEY = 'owp.dashboard.token';
const TOKEN_PATTERN = /^[\x21-\x7e]{8,512}$/;

export function readConfig(script: HTMLOrSVGScriptElement | null): DashboardConfig {
  const fromWindow = window.OWP_DASHBOARD ?? {};
  const tag = script instanceof HTMLScriptElement ? script : undefined;
  const hostUrl = tag?.getAttribute(DASHBOARD_DATA.coordinatorUrl) ?? fromWindow.coordinatorUrl;
  const hostToken = tag?.getAttribute(DASHBOARD_DATA.token) ?? fromWindow.token;
  const coordinatorUrl = (hostUrl ?? window.location.origin).replace(/\/+$/, '');
  if (hostToken) return { coordinatorUrl, token: hostToken, hostProvided: true };
  return { coordinatorUrl, token: takeTokenFromFragment() ?? storedToken(), hostProvided: false };
}

function takeTokenFromFragment(): string | undefined {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return undefined;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return undefined;
  params.delete('token');
  const rest = params.toString();
  // Out of the address bar (and so out of history, bookmarks and screen shares) before anything else runs.
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`);
  if (!TOKEN_PATTERN.test(token)) return undefined;
  storeToken(token);
  return token;
}

function storedToken(): string | undefined {
  try {
    const token = window.sessionStorage.getItem(TOKEN_STORAGE_KEY);
    return token && TOKEN_PATTERN.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string | undefined): void {
  try {
    if (token) window.sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch {
    // Storage can be disabled (private modes, webviews); the token then lives for this page only.
  }
}

export function isPlausibleToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}
