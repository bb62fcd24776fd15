/**
 * Serves the live dashboard at `/`: the dashboard's page shell (media/dashboard/shell.ts, the same
 * one the VS Code webview shows) plus the esbuild bundle from `dist/media/` (dashboard.js,
 * dashboard.css). The shell carries no data at all (the page loads everything through the API),
 * so no outside text is ever written into HTML here. A strict CSP, sent as a header, allows only
 * our own stylesheet, the one nonce'd script, and connections back to this origin.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_ASSETS, dashboardCsp, dashboardPageHtml } from '../media/dashboard/shell.ts';
import type { StaticHandler } from './http.ts';

const ASSETS: Record<string, string> = {
  '/media/dashboard.js': 'application/javascript; charset=utf-8',
  '/media/dashboard.css': 'text/css; charset=utf-8',
  '/media/dashboard.js.map': 'application/json; charset=utf-8',
  '/media/dashboard.css.map': 'application/json; charset=utf-8',
};

/**
 * Where the built bundle lives: next to the CLI bundle (dist/media), beside the folder of the CLI's
 * chunk that holds this code (dist/cli-chunks/ → dist/media), or, from source, in ../dist/media.
 */
export function defaultAssetsDir(): string | undefined {
  const candidates = [new URL('./media/', import.meta.url), new URL('../media/', import.meta.url), new URL('../dist/media/', import.meta.url)];
  for (const candidate of candidates) {
    if (candidate.protocol !== 'file:') continue;
    const dir = fileURLToPath(candidate);
    if (existsSync(join(dir, DASHBOARD_ASSETS.script))) return dir;
  }
  return undefined;
}

export interface DashboardStaticOptions {
  /** Folder holding dashboard.js and dashboard.css. Defaults to the built dist/media. */
  assetsDir?: string;
}

export function dashboardStaticHandler(options: DashboardStaticOptions = {}): StaticHandler {
  const assetsDir = options.assetsDir ?? defaultAssetsDir();
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/' || path === '/index.html') {
      if (!assetsDir) {
        sendText(res, 503, 'text/plain; charset=utf-8', 'The dashboard bundle is not built. Run `npm run build` (it writes dist/media/dashboard.js), then reload. The API is at /v1/info.\n', req);
        return true;
      }
      const nonce = randomBytes(18).toString('base64');
      const csp = dashboardCsp({ nonce, assetSource: "'self'", connectSources: ["'self'"], delivery: 'header' });
      const html = dashboardPageHtml({ nonce, scriptUrl: `/media/${DASHBOARD_ASSETS.script}`, styleUrl: `/media/${DASHBOARD_ASSETS.style}` });
      sendText(res, 200, 'text/html; charset=utf-8', html, req, { 'content-security-policy': csp });
      return true;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' });
      res.end();
      return true;
    }
    const type = ASSETS[path];
    if (!type) return false;
    const file = assetsDir ? join(assetsDir, path.slice('/media/'.length)) : undefined;
    if (!file || !existsSync(file)) {
      sendText(res, 404, 'text/plain; charset=utf-8', 'Not built. Run `npm run build`.\n', req);
      return true;
    }
    sendText(res, 200, type, readFileSync(file), req);
    return true;
  };
}

function sendText(res: ServerResponse, status: number, type: string, body: string | Buffer, req: IncomingMessage, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
