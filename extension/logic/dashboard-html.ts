/**
 * The dashboard webview's page. Everything interpolated is escaped; the CSP allows scripts only
 * with the nonce, styles and images only from the webview's own resource origin, and network
 * access only to the coordinator (HTTP and its socket.io WebSocket).
 */
export interface DashboardPage {
  nonce: string;
  /** webview.cspSource */
  cspSource: string;
  coordinatorUrl: string;
  token?: string;
  /** Absent when the bundle is not in this build: the page then says so. */
  scriptUrl: string | undefined;
  styleUrl: string | undefined;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The coordinator's origins for connect-src: http(s) and the matching ws(s). */
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

export function dashboardCsp(page: Pick<DashboardPage, 'nonce' | 'cspSource' | 'coordinatorUrl'>): string {
  const connect = coordinatorOrigins(page.coordinatorUrl);
  return [
    "default-src 'none'",
    `script-src 'nonce-${page.nonce}'`,
    `style-src ${page.cspSource}`,
    `img-src ${page.cspSource} data:`,
    `font-src ${page.cspSource}`,
    `connect-src ${connect.length ? connect.join(' ') : "'none'"}`,
  ].join('; ');
}

export function dashboardHtml(page: DashboardPage): string {
  const csp = escapeHtml(dashboardCsp(page));
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>OWP Dashboard</title>${page.styleUrl ? `<link rel="stylesheet" href="${escapeHtml(page.styleUrl)}">` : ''}</head>`;
  if (!page.scriptUrl) {
    const url = escapeHtml(page.coordinatorUrl);
    return `${head}<body><main id="owp-dashboard"><h1>OWP Dashboard</h1><p>This build of the extension does not include the dashboard bundle (dist/media/dashboard.js). Rebuild with <code>npm run package</code>, or open the coordinator's dashboard in a browser: <a href="${url}">${url}</a>.</p></main></body></html>`;
  }
  const data = ` data-coordinator-url="${escapeHtml(page.coordinatorUrl)}"${page.token ? ` data-token="${escapeHtml(page.token)}"` : ''}`;
  return `${head}<body><main id="owp-dashboard"><p>Loading the OWP dashboard from ${escapeHtml(page.coordinatorUrl)}…</p></main><script nonce="${escapeHtml(page.nonce)}" src="${escapeHtml(page.scriptUrl)}"${data}></script></body></html>`;
}
