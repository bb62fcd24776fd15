/**
 * Untrusted text (issue titles and bodies, logins) shown in Markdown tooltips. Everything that
 * Markdown or HTML would interpret is escaped, so a title cannot become a link, an image or a
 * command; the tooltip's MarkdownString is also created untrusted and without HTML support.
 */
const MARKDOWN_SPECIAL = /[\\`*_{}[\]()#+\-.!|<>&~"'$:]/g;

export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(MARKDOWN_SPECIAL, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`));
}

/** Keeps line breaks visible in Markdown (two trailing spaces) after escaping. */
export function escapeMarkdownBlock(text: string, maxLength = 1500): string {
  const clipped = text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
  return escapeMarkdown(clipped)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('  \n');
}

/** An http(s) URL fit for a Markdown link target, or undefined. Rejects command:, javascript:, data:. */
export function safeHttpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  // Parentheses and spaces would end the Markdown link target early.
  return parsed.href.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * Untrusted text inside a notification or quick pick: one line, bounded, and with square
 * brackets swapped so a title cannot form a `[label](command:…)` link, which notifications render.
 */
export function plainText(text: string, maxLength = 160): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/\[/g, '‹').replace(/\]/g, '›');
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}
