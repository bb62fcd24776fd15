/**
 * What the coordinator serves for the dashboard: an HTML shell with a strict CSP and one nonce'd
 * script, the built assets and nothing else.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dashboardStaticHandler } from '../../coordinator/dashboard-static.ts';
import { dashboardPageHtml } from '../../media/dashboard/shell.ts';
import { dashboardHtml } from '../../extension/logic/dashboard-html.ts';
import { buildDashboardAssets } from '../helpers/browser.ts';
import { startPool, type TestPool } from '../helpers/coordinator.ts';

let assetsDir: string;
let pool: TestPool;

before(async () => {
  assetsDir = await buildDashboardAssets();
  pool = await startPool('memory', { staticHandler: dashboardStaticHandler({ assetsDir }) });
});

after(async () => {
  await pool.close();
  rmSync(assetsDir, { recursive: true, force: true });
});

test('the page is a fixed shell under a strict CSP whose nonce matches the only script', async () => {
  const res = await fetch(`${pool.url}/`);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  const html = await res.text();
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce, 'a script nonce');
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="/media/dashboard.js">`]);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(csp, /frame-ancestors 'none'/, 'framing is refused (only a header can say so)');
  assert.equal(html, dashboardPageHtml({ nonce, scriptUrl: '/media/dashboard.js', styleUrl: '/media/dashboard.css' }), 'the page is the shared shell');
  const again = await fetch(`${pool.url}/`);
  assert.notEqual(/nonce-([^']+)/.exec(again.headers.get('content-security-policy') ?? '')?.[1], nonce, 'a fresh nonce per page');
});

test('the built assets are served with their types; other paths are not', async () => {
  const js = await fetch(`${pool.url}/media/dashboard.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await js.text()).length > 1000);
  const css = await fetch(`${pool.url}/media/dashboard.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  for (const path of ['/media/../package.json', '/media/..%2fpackage.json', '/media/main.ts', '/dist/cli.mjs']) {
    const res = await fetch(`${pool.url}${path}`);
    assert.notEqual(res.status, 200, path);
  }
});

test('the coordinator and the VS Code webview show one page: the same shell, the webview adding its CSP and where the coordinator is', () => {
  const served = dashboardPageHtml({ nonce: 'n0nce', scriptUrl: 'x.js', styleUrl: 'x.css' });
  const webview = dashboardHtml({ nonce: 'n0nce', cspSource: 'https://webview.example', coordinatorUrl: 'http://127.0.0.1:8787', scriptUrl: 'x.js', styleUrl: 'x.css' });
  const withoutHostParts = (html: string): string =>
    html
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '')
      .replace(/ data-coordinator-url="[^"]*"/, '')
      .replace(/ from http:\/\/127\.0\.0\.1:8787…/, '…');
  assert.equal(withoutHostParts(webview), served);
});

test('the shell escapes what a host passes in (a webview gives URL and token as data attributes)', () => {
  const html = dashboardPageHtml({ nonce: 'abc', scriptUrl: 'x.js', styleUrl: 'x.css', coordinatorUrl: 'http://h"><script>alert(1)</script>', token: 'owpm_"tok' });
  assert.equal(html.match(/<script\b/g)?.length, 1);
  assert.match(html, /data-coordinator-url="http:\/\/h&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  assert.match(html, /data-token="owpm_&quot;tok"/);
});
