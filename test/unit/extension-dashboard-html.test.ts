import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardHtml, webviewCsp } from '../../extension/logic/dashboard-html.ts';
import { coordinatorOrigins } from '../../media/dashboard/shell.ts';

const page = { nonce: 'abc123', cspSource: 'https://webview.example', coordinatorUrl: 'http://127.0.0.1:8787', scriptUrl: 'https://webview.example/dist/media/dashboard.js', styleUrl: 'https://webview.example/dist/media/dashboard.css' };

describe('extension dashboard webview page', () => {
  test('the CSP denies by default, needs the nonce for scripts and reaches only the coordinator', () => {
    const csp = webviewCsp(page);
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.match(csp, /connect-src http:\/\/127\.0\.0\.1:8787 ws:\/\/127\.0\.0\.1:8787/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(csp, /frame-ancestors/, 'ignored in a meta tag, so not written there');
    assert.match(csp, /style-src https:\/\/webview\.example;/);
    assert.match(webviewCsp({ ...page, coordinatorUrl: 'file:///x' }), /connect-src 'none'/);
    assert.deepEqual(coordinatorOrigins('https://pool.example/base/'), ['https://pool.example', 'wss://pool.example']);
    assert.deepEqual(coordinatorOrigins('javascript:alert(1)'), []);
  });

  test('the bundle gets the coordinator URL and token as escaped data attributes on its nonce\'d script', () => {
    const html = dashboardHtml({ ...page, coordinatorUrl: 'http://127.0.0.1:8787/"><script>x</script>', token: 'tok"en' });
    assert.ok(html.includes('<script nonce="abc123" src="https://webview.example/dist/media/dashboard.js" data-coordinator-url="http://127.0.0.1:8787/&quot;&gt;&lt;script&gt;x&lt;/script&gt;" data-token="tok&quot;en"></script>'));
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(html.includes('<main id="owp-dashboard">'));
  });

  test('without the bundle the page opens and says what to do', () => {
    const html = dashboardHtml({ ...page, scriptUrl: undefined, styleUrl: undefined });
    assert.doesNotMatch(html, /<script/);
    assert.match(html, /does not include the dashboard bundle/);
    assert.match(html, /href="http:\/\/127\.0\.0\.1:8787"/);
  });
});
