/**
 * The dashboard's HTML page and its Content-Security-Policy, for every host that shows the
 * dashboard bundle: the coordinator (served at `/`) and the VS Code extension (a webview). Both
 * import this one module, so the two pages cannot drift apart.
 *
 * It lives with the bundle because it is the bundle's half of a contract: the root element the
 * bundle draws into and the data attributes `config.ts` reads are named here once. It is a pure
 * module (strings in, a string out; no DOM, no Node), so a Node host may import it without
 * pulling the browser code in. Everything interpolated is escaped; the page carries no data of
 * its own (the bundle loads everything through the API), so no outside text is written into HTML.
 */

/** The element the bundle draws into. */
export const DASHBOARD_ROOT_ID = 'owp-dashboard';

/** The attributes a host sets on the bundle's script tag (read by config.ts). */
export const DASHBOARD_DATA = { coordinatorUrl: 'data-coordinator-url', token: 'data-token' } as const;

/** Built assets, relative to the folder that holds them (dist/media). */
export const DASHBOARD_ASSETS = { script: 'dashboard.js', style: 'dashboard.css' } as const;

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export interface DashboardCspOptions {
  nonce: string;
  /** Where styles, images and fonts may come from: `'self'` on the coordinator, `webview.cspSource` in VS Code. */
  assetSource: string;
  /** Where the page may connect (HTTP and socket.io): `'self'`, or the coordinator's origins. Empty: nowhere. */
  connectSources: readonly string[];
  /**
   * How the policy reaches the browser. `frame-ancestors` is honoured only in a response header
   * (browsers ignore it, with a console warning, in a meta tag), so only a header carries it.
   */
  delivery: 'header' | 'meta';
}

/** Deny by default; scripts only with the page's nonce; no inline styles, no eval, no framing. */
export function dashboardCsp(options: DashboardCspOptions): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${options.nonce}'`,
    `style-src ${options.assetSource}`,
    `img-src ${options.assetSource} data:`,
    `font-src ${options.assetSource}`,
    `connect-src ${options.connectSources.length > 0 ? options.connectSources.join(' ') : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    ...(options.delivery === 'header' ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

/** A coordinator's origins for `connect-src`: http(s) and the matching ws(s). Nothing for other schemes. */
export function coordinatorOrigins(coordinatorUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(coordinatorUrl);
  } catch {
    return [];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [];
  const ws = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return [url.origin, `${ws}//${url.host}`];
}

export interface DashboardPageOptions {
  nonce: string;
  /** The bundle's URL; undefined when this build lacks it (the page then says what to do). */
  scriptUrl: string | undefined;
  styleUrl: string | undefined;
  /** The policy to repeat in a meta tag, for hosts without response headers (webviews). */
  metaCsp?: string;
  /** For hosts other than the coordinator (a webview): where the API is, and the token to use. */
  coordinatorUrl?: string;
  token?: string;
}

/** The page that runs the dashboard bundle. */
export function dashboardPageHtml(options: DashboardPageOptions): string {
  const head = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${options.metaCsp ? `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(options.metaCsp)}">\n` : ''}<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>OWP Dashboard</title>
${options.styleUrl ? `<link rel="stylesheet" href="${escapeHtml(options.styleUrl)}">\n` : ''}</head>
<body>
`;
  if (!options.scriptUrl) {
    const where = options.coordinatorUrl ? ` or open the coordinator's dashboard in a browser: <a href="${escapeHtml(options.coordinatorUrl)}">${escapeHtml(options.coordinatorUrl)}</a>` : '';
    return `${head}<main id="${DASHBOARD_ROOT_ID}"><h1>OWP Dashboard</h1><p>This build does not include the dashboard bundle (dist/media/${DASHBOARD_ASSETS.script}). Rebuild with <code>npm run build</code> (for the extension, <code>npm run package</code>)${where}.</p></main>
</body>
</html>
`;
  }
  const data = [
    options.coordinatorUrl !== undefined ? ` ${DASHBOARD_DATA.coordinatorUrl}="${escapeHtml(options.coordinatorUrl)}"` : '',
    options.token !== undefined ? ` ${DASHBOARD_DATA.token}="${escapeHtml(options.token)}"` : '',
  ].join('');
  const from = options.coordinatorUrl !== undefined ? ` from ${escapeHtml(options.coordinatorUrl)}` : '';
  return `${head}<main id="${DASHBOARD_ROOT_ID}"><p>Loading the OWP dashboard${from}…</p><noscript>The dashboard needs JavaScript. The API is at /v1/info, /v1/repos and /v1/tasks.</noscript></main>
<script nonce="${escapeHtml(options.nonce)}" src="${escapeHtml(options.scriptUrl)}"${data}></script>
</body>
</html>
`;
}
