/**
 * GraphQL global ids (REST's `node_id`) of the GitHub-shaped server's objects. GitHub's are opaque
 * strings with a type prefix (`PR_kwDO…`); ours carry what finds the object again, so the REST
 * answer's `node_id` and the GraphQL `id` of a pull request are the same string.
 */
import type { FakeRepo } from './model.ts';

export function pullNodeId(repo: Pick<FakeRepo, 'owner' | 'name'>, number: number): string {
  return `PR_${Buffer.from(`${repo.owner}/${repo.name}#${number}`).toString('base64url')}`;
}

/** The repository and number a pull request's global id names, or undefined for any other string. */
export function parsePullNodeId(id: string): { owner: string; name: string; number: number } | undefined {
  if (!id.startsWith('PR_')) return undefined;
  const m = /^([^/#]+)\/([^/#]+)#(\d+)$/.exec(Buffer.from(id.slice(3), 'base64url').toString('utf8'));
  return m ? { owner: m[1] as string, name: m[2] as string, number: Number(m[3]) } : undefined;
}
