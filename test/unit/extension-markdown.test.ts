import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMarkdown, escapeMarkdownBlock, plainText, safeHttpUrl } from '../../extension/logic/markdown.ts';

describe('extension markdown safety', () => {
  test('escapes every character Markdown or HTML would interpret', () => {
    assert.equal(escapeMarkdown('a *b* [c](d) <e> & `f`'), 'a \\*b\\* \\[c\\]\\(d\\) &lt;e&gt; &amp; \\`f\\`');
    assert.equal(escapeMarkdown('# heading'), '\\# heading');
    assert.equal(escapeMarkdown('plain words 123'), 'plain words 123');
  });

  test('blocks keep line breaks and are bounded', () => {
    assert.equal(escapeMarkdownBlock('one\r\ntwo'), 'one  \ntwo');
    assert.ok(escapeMarkdownBlock('x'.repeat(5000), 100).length <= 100);
  });

  test('only http(s) URLs become link targets', () => {
    assert.equal(safeHttpUrl('https://github.com/a/b/issues/1'), 'https://github.com/a/b/issues/1');
    assert.equal(safeHttpUrl('https://x.example/a(b)'), 'https://x.example/a%28b%29');
    for (const bad of ['javascript:alert(1)', 'command:workbench.action.quit', 'data:text/html,hi', 'file:///etc/passwd', 'not a url', undefined]) {
      assert.equal(safeHttpUrl(bad), undefined, String(bad));
    }
  });

  test('plain text for notifications is one bounded line without link brackets', () => {
    assert.equal(plainText('a\nb\u0007 [x](y)'), 'a b ‹x›(y)');
    assert.equal(plainText('y'.repeat(300), 10).length, 10);
  });
});
