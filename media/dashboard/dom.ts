/**
 * The one way the dashboard makes DOM: elements with a fixed set of safe attributes and children
 * that are nodes or plain text (text nodes, never parsed as HTML). Outside data (titles, logins,
 * repo names) can only ever become text or a checked http(s) link.
 */
import { sanitizeUntrusted } from '../../protocol/untrusted-text.ts';

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  type?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  min?: string | number;
  max?: string | number;
  step?: string | number;
  for?: string;
  href?: string;
  rel?: string;
  target?: string;
  disabled?: boolean;
  checked?: boolean;
  required?: boolean;
  autocomplete?: string;
  data?: Record<string, string | number>;
  aria?: Record<string, string>;
  style?: Partial<Record<'width' | 'inlineSize', string>>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props) as Array<[keyof Props, unknown]>) {
    if (value === undefined || value === null || value === false) continue;
    switch (key) {
      case 'class':
        el.className = String(value);
        break;
      case 'data':
        for (const [k, v] of Object.entries(value as Record<string, string | number>)) el.dataset[k] = String(v);
        break;
      case 'aria':
        for (const [k, v] of Object.entries(value as Record<string, string>)) el.setAttribute(`aria-${k}`, v);
        break;
      case 'style':
        // CSSOM property writes are not inline style markup, so the CSP needs no 'unsafe-inline'.
        for (const [k, v] of Object.entries(value as Record<string, string>)) el.style.setProperty(k === 'inlineSize' ? 'inline-size' : k, v);
        break;
      case 'href':
        el.setAttribute('href', safeHref(String(value)));
        break;
      case 'disabled':
      case 'checked':
      case 'required':
        if (value === true) el.setAttribute(key, '');
        break;
      default:
        el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    // Text is shown as a reader will see it: no hidden characters, no bidi overrides reordering it
    // (protocol/untrusted-text.ts), whoever wrote it.
    parent.appendChild(typeof child === 'string' ? document.createTextNode(sanitizeUntrusted(child).text) : typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Only http(s) links leave the page; anything else (javascript:, data:) becomes a dead link. */
export function safeHref(url: string): string {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '#';
  } catch {
    return '#';
  }
}
