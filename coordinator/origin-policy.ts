/**
 * Which pages may call the coordinator, and under which host names it answers.
 *
 * Origins (CORS): a request without an Origin header comes from a program (the CLI, the extension
 * host, a script) and is served. A browser page is served when it is the coordinator's own page
 * (same origin) or its origin is on `cors_origins`: an exact origin (`https://ops.example.org`), a
 * scheme (`vscode-webview:`, VS Code's webviews, whose origins are random per panel), or `loopback`
 * (a page served from this machine, such as code-server's webviews). Any other origin is refused
 * outright (403), not merely denied the CORS headers: a page could otherwise still send a simple
 * cross-site request and have it run. Tokens travel as bearer headers, never cookies, so a page
 * reads only what its own token allows; the policy keeps strangers' pages from spending a
 * volunteer's registration limit or probing a coordinator on their loopback.
 *
 * Hosts (DNS rebinding): a coordinator listening on loopback answers only to loopback names
 * (`localhost`, `127.0.0.1`, `[::1]`) and the names in `allowed_hosts`, so a site whose name was
 * re-pointed at 127.0.0.1 is refused. A coordinator on another address checks the Host header
 * only when `allowed_hosts` is set (behind a TLS proxy, list the public name).
 */
import { isIP } from 'node:net';

export const DEFAULT_CORS_ORIGINS: readonly string[] = ['vscode-webview:', 'loopback'];

export interface OriginPolicyOptions {
  /** Allowed cross origins: exact origins, schemes (`vscode-webview:`) or `loopback`. */
  corsOrigins?: readonly string[];
  /** Extra host names (with or without a port) this coordinator answers to. */
  allowedHosts?: readonly string[];
}

export type OriginVerdict = { allowed: true; cors: string | undefined } | { allowed: false; reason: string };

function isLoopbackName(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** `host:port` → its hostname (IPv6 keeps its brackets off). Undefined for an unparsable header. */
function hostnameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

export class OriginPolicy {
  private readonly corsOrigins: readonly string[];
  private readonly allowedHosts: Set<string>;
  /** The address the server listens on, once it does. */
  private boundTo: string | undefined;

  constructor(options: OriginPolicyOptions = {}) {
    this.corsOrigins = options.corsOrigins ?? DEFAULT_CORS_ORIGINS;
    this.allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  }

  listeningOn(address: string): void {
    this.boundTo = address;
  }

  private loopbackOnly(): boolean {
    return this.boundTo !== undefined && isLoopbackName(this.boundTo);
  }

  /** Whether a request naming this Host is answered. */
  checkHost(hostHeader: string | undefined): { allowed: true } | { allowed: false; reason: string } {
    const strict = this.loopbackOnly() || this.allowedHosts.size > 0;
    if (!strict) return { allowed: true };
    const host = hostHeader?.toLowerCase();
    const hostname = host ? hostnameOf(host) : undefined;
    if (host && hostname && (this.allowedHosts.has(host) || this.allowedHosts.has(hostname))) return { allowed: true };
    if (hostname && this.loopbackOnly() && isLoopbackName(hostname)) return { allowed: true };
    return {
      allowed: false,
      reason: `This coordinator does not answer to the host name "${(hostHeader ?? '').slice(0, 100)}". ${this.loopbackOnly() ? 'It listens on loopback and answers only to localhost names' : 'It answers only to the names in allowed_hosts'}; an operator behind a proxy lists the public name in allowed_hosts.`,
    };
  }

  /** Whether a page of this origin may call, and the Access-Control-Allow-Origin to answer with (none for same origin or no browser). */
  checkOrigin(origin: string | undefined, hostHeader: string | undefined): OriginVerdict {
    if (origin === undefined) return { allowed: true, cors: undefined };
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return { allowed: false, reason: `The origin "${origin.slice(0, 100)}" is not allowed to call this coordinator.` };
    }
    if (origin !== 'null' && (url.protocol === 'http:' || url.protocol === 'https:') && hostHeader !== undefined && url.host.toLowerCase() === hostHeader.toLowerCase()) {
      return { allowed: true, cors: undefined };
    }
    for (const entry of this.corsOrigins) {
      if (entry === 'loopback' ? (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname) : entry.endsWith(':') && !entry.includes('/') ? url.protocol === entry : url.origin === entry.replace(/\/+$/, '')) {
        return { allowed: true, cors: origin };
      }
    }
    return { allowed: false, reason: `Pages from ${url.origin === 'null' ? 'this origin' : url.origin} may not call this coordinator. Its operator can add the origin to cors_origins.` };
  }
}
