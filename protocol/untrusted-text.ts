/**
 * Text written by strangers (an issue's title, body, acceptance criteria) made visible: what a
 * person reading it on GitHub does not see is removed before anyone (an AI tool, the dashboard,
 * the CLI, a status comment) reads it, and counted so the reader is told. One home for every front
 * end and the coordinator; the prompt (client/prompt.ts) fences the result as data.
 *
 * Hidden on GitHub, read by a model: HTML comments, zero-width and bidirectional control
 * characters, Unicode tag characters (U+E0000–U+E007F, "ASCII smuggling"), variation selectors
 * (data hidden after an emoji) and other format or filler characters; control characters besides
 * tab and newline (which can also glue a fence together from pieces). Emoji sequences lose their
 * joiners and render as their parts: a small price for seeing everything that is there.
 */

export interface RemovedCounts {
  htmlComments: number;
  zeroWidth: number;
  bidi: number;
  tags: number;
  controls: number;
  otherInvisible: number;
}

export interface SanitizedText {
  text: string;
  removed: RemovedCounts;
}

const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF\u180E]/gu;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu;
const TAGS = /[\u{E0000}-\u{E007F}]/gu;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;
/** Other format characters, variation selectors, fillers and blank lookalikes that render as nothing. */
const OTHER = /[\p{Cf}\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u034F\u115F\u1160\u3164\uFFA0\u2800\u17B4\u17B5\u2028\u2029]/gu;
/** An HTML comment, or one left open (GitHub hides the rest of the text then). */
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;

function count(text: string, pattern: RegExp): [string, number] {
  let n = 0;
  const out = text.replace(pattern, () => {
    n += 1;
    return '';
  });
  return [out, n];
}

/** Removes what a reader on GitHub would not see; line endings become \n. */
export function sanitizeUntrusted(input: string): SanitizedText {
  let text = input.replace(/\r\n?/g, '\n');
  const removed: RemovedCounts = { htmlComments: 0, zeroWidth: 0, bidi: 0, tags: 0, controls: 0, otherInvisible: 0 };
  // Invisible characters first, so none of them can split "<!" and "--" to hide a comment from the match.
  [text, removed.zeroWidth] = count(text, ZERO_WIDTH);
  [text, removed.bidi] = count(text, BIDI);
  [text, removed.tags] = count(text, TAGS);
  [text, removed.controls] = count(text, CONTROLS);
  [text, removed.otherInvisible] = count(text, OTHER);
  [text, removed.htmlComments] = count(text, HTML_COMMENT);
  return { text, removed };
}

export function addRemoved(a: RemovedCounts, b: RemovedCounts): RemovedCounts {
  return { htmlComments: a.htmlComments + b.htmlComments, zeroWidth: a.zeroWidth + b.zeroWidth, bidi: a.bidi + b.bidi, tags: a.tags + b.tags, controls: a.controls + b.controls, otherInvisible: a.otherInvisible + b.otherInvisible };
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** "2 hidden HTML comments and 14 zero-width characters were removed from the issue text", or undefined when nothing was. */
export function describeRemoved(removed: RemovedCounts, from = 'the issue text'): string | undefined {
  const parts = [
    removed.htmlComments && plural(removed.htmlComments, 'hidden HTML comment', 'hidden HTML comments'),
    removed.zeroWidth && plural(removed.zeroWidth, 'zero-width character', 'zero-width characters'),
    removed.bidi && plural(removed.bidi, 'bidirectional control character', 'bidirectional control characters'),
    removed.tags && plural(removed.tags, 'invisible Unicode tag character', 'invisible Unicode tag characters'),
    removed.controls && plural(removed.controls, 'control character', 'control characters'),
    removed.otherInvisible && plural(removed.otherInvisible, 'other invisible character', 'other invisible characters'),
  ].filter((p): p is string => typeof p === 'string');
  if (parts.length === 0) return undefined;
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const total = Object.values(removed).reduce((a, b) => a + b, 0);
  return `${list} ${total === 1 ? 'was' : 'were'} removed from ${from}.`;
}

/** One line of untrusted text for prose (a title in a list, a PR body, a terminal line): visible, no breaks, bounded. */
export function visibleLine(text: string, maxLength = 200): string {
  // Control characters separate words on one line (a tab, a NUL between words), so they become spaces here.
  // eslint-disable-next-line no-control-regex
  const flat = sanitizeUntrusted(text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')).text.replace(/\s+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

const ZWJ = '\u200D';
/** A closing keyword followed by an issue reference (#12, o/r#12, an issue URL): GitHub would close that issue. */
const CLOSING = /\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b(?=[\s:]*(?:[\w.-]+\/[\w.-]+)?#\d|[\s:]*https?:\/\/)/gi;
/** An @mention (a user or org/team) at a word start. */
const MENTION = /(^|[^\w`/])@(?=[A-Za-z0-9])/g;

/**
 * Untrusted text made inert where GitHub acts on words as the author of the PR or comment: an
 * `@mention` would notify people from the volunteer's account and a closing keyword ("fixes #12")
 * would close another issue when the PR merges. A zero-width joiner after `@` and inside the
 * keyword keeps the text readable and stops both (GitHub matches neither then). Only the
 * contract's own `Closes #N` line, outside this text, links and closes the task's issue.
 */
export function inertForGitHub(text: string): string {
  // Code spans are left as written: GitHub acts on neither mentions nor keywords inside them.
  return text
    .split(/(`+[^`]*?`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(CLOSING, (word: string) => `${word[0]}${ZWJ}${word.slice(1)}`).replace(MENTION, `$1@${ZWJ}`)))
    .join('');
}
