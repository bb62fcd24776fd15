/**
 * Serves the dashboard at `/`. Until the live dashboard bundle exists this is a plain status page
 * rendered on the server from the API's own data. Every outside string is escaped: titles,
 * logins and repo names are text, never HTML.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StaticHandler } from './http.ts';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function dashboardStaticHandler(): StaticHandler {
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (req.method !== 'GET' || path !== '/') return false;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'",
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(statusPage());
    return true;
  };
}

function statusPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OWP coordinator</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}code{background:#eee;padding:0 .3em}</style></head>
<body><h1>OWP coordinator</h1><p>The coordinator is running. API: <code>/v1/info</code>, <code>/v1/repos</code>, <code>/v1/tasks</code>; Prometheus: <code>/metrics</code>; health: <code>/healthz</code>.</p></body></html>`;
}
