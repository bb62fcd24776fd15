/**
 * Tokens and principals. Tokens are 256-bit random strings shown once; only their SHA-256 is
 * stored (a fast hash is right for high-entropy secrets; slow hashes are for passwords).
 */
import { hash, randomBytes } from 'node:crypto';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'worker'; id: string }
  | { kind: 'maintainer'; id: string; repos: readonly string[]; admin: boolean };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export function newToken(kind: 'worker' | 'maintainer'): string {
  return `${kind === 'worker' ? 'owpw' : 'owpm'}_${randomBytes(32).toString('base64url')}`;
}

/** Every command checks its connection's token again (revocation is immediate): one-shot `hash`, a third of `createHash`'s cost. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Does a maintainer scope list (`*`, `owner/*`, `owner/name`) cover this repo? */
export function scopeCovers(scopes: readonly string[], repo: string): boolean {
  const owner = repo.slice(0, repo.indexOf('/'));
  return scopes.some((s) => s === '*' || s === repo || s === `${owner}/*`);
}

export function principalScope(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'worker':
      return `worker:${principal.id}`;
    case 'maintainer':
      return `maintainer:${principal.id}`;
  }
}
