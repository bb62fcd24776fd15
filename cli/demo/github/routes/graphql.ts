/**
 * GitHub's GraphQL API (`POST /graphql`; GitHub Enterprise: `POST /api/graphql`), as far as OWP's
 * volunteers use it: a repository's pull request by number (`id`, `isDraft`, …) and the
 * `markPullRequestReadyForReview` mutation — REST has no endpoint for taking a PR out of draft.
 * The schema below is a subset of GitHub's, with its names and types, executed by graphql-js, so
 * any well-formed query over these fields works and a malformed one gets GraphQL's own errors.
 * Answers follow GitHub: 200 with `data`, plus `errors` (with GitHub's `type`) for what failed;
 * 401 without a token; a PR's global id is the REST answer's `node_id`.
 */
import { buildSchema, graphql, GraphQLError } from 'graphql';
import { GitHubApiError, iso, lower, type FakePull, type FakeRepo, type TokenInfo } from '../model.ts';
import { parsePullNodeId, pullNodeId } from '../node-ids.ts';
import { route, type Ctx, type Route } from '../router.ts';
import type { FakeGitHubState } from '../state.ts';

const GRAPHQL_DOCS = 'https://docs.github.com/graphql';

const SCHEMA = buildSchema(`
  scalar URI
  scalar DateTime
  enum PullRequestState { OPEN CLOSED MERGED }
  type Actor { login: String! }
  type Repository { id: ID! name: String! nameWithOwner: String! url: URI! pullRequest(number: Int!): PullRequest }
  type PullRequest {
    id: ID!
    number: Int!
    title: String!
    url: URI!
    isDraft: Boolean!
    state: PullRequestState!
    headRefName: String!
    baseRefName: String!
    author: Actor
    updatedAt: DateTime!
    repository: Repository!
  }
  input MarkPullRequestReadyForReviewInput { clientMutationId: String pullRequestId: ID! }
  type MarkPullRequestReadyForReviewPayload { clientMutationId: String pullRequest: PullRequest }
  type Query { viewer: Actor! repository(owner: String!, name: String!): Repository }
  type Mutation { markPullRequestReadyForReview(input: MarkPullRequestReadyForReviewInput!): MarkPullRequestReadyForReviewPayload }
`);

/** A resolver's failure, with GitHub's error `type` (NOT_FOUND, FORBIDDEN, UNPROCESSABLE). */
class TypedError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Context {
  state: FakeGitHubState;
  who: TokenInfo;
}

function repositoryView(ctx: Context, repo: FakeRepo): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    id: `R_${Buffer.from(String(repo.id)).toString('base64url')}`,
    name: repo.name,
    nameWithOwner: full,
    url: `${ctx.state.htmlUrl}/${full}`,
    pullRequest: ({ number }: { number: number }) => {
      const issue = repo.issues.get(number);
      if (!issue?.pull) throw new TypedError('NOT_FOUND', `Could not resolve to a PullRequest with the number of ${number}.`);
      return pullView(ctx, repo, issue as FakePull);
    },
  };
}

function pullView(ctx: Context, repo: FakeRepo, pr: FakePull): Record<string, unknown> {
  return {
    id: pullNodeId(repo, pr.number),
    number: pr.number,
    title: pr.title,
    url: `${ctx.state.htmlUrl}/${repo.owner}/${repo.name}/pull/${pr.number}`,
    isDraft: pr.pull.draft,
    state: pr.pull.merged_at ? 'MERGED' : pr.state === 'open' ? 'OPEN' : 'CLOSED',
    headRefName: pr.pull.head_ref,
    baseRefName: pr.pull.base_ref,
    author: { login: pr.user },
    updatedAt: pr.updated_at,
    repository: () => repositoryView(ctx, repo),
  };
}

/** The pull request a global id names, if the caller may see it. */
function pullByNodeId(ctx: Context, id: string): { repo: FakeRepo; pr: FakePull } {
  const named = parsePullNodeId(id);
  try {
    if (!named) throw new Error('not a pull request id');
    const repo = ctx.state.visibleRepo(named.owner, named.name, ctx.who);
    return { repo, pr: ctx.state.pullOf(repo, named.number) };
  } catch {
    throw new TypedError('NOT_FOUND', `Could not resolve to a node with the global id of '${id}'`);
  }
}

const ROOT = {
  viewer: (_args: unknown, ctx: Context) => ({ login: ctx.who.login }),
  repository: ({ owner, name }: { owner: string; name: string }, ctx: Context) => {
    try {
      return repositoryView(ctx, ctx.state.visibleRepo(owner, name, ctx.who));
    } catch {
      throw new TypedError('NOT_FOUND', `Could not resolve to a Repository with the name '${owner}/${name}'.`);
    }
  },
  markPullRequestReadyForReview: ({ input }: { input: { pullRequestId: string; clientMutationId?: string } }, ctx: Context) => {
    const { repo, pr } = pullByNodeId(ctx, input.pullRequestId);
    const login = ctx.who.login;
    // The author, or someone with write access; and a fine-grained token needs Pull requests: write.
    const writer = lower(login) === lower(repo.owner) || repo.collaborators.has(lower(login));
    if ((!writer && lower(login) !== lower(pr.user)) || ctx.who.permissions.pull_requests !== 'write') {
      throw new TypedError('FORBIDDEN', 'Resource not accessible by personal access token');
    }
    if (pr.state !== 'open') throw new TypedError('UNPROCESSABLE', 'Pull request is closed and cannot be marked ready for review.');
    if (pr.pull.draft) {
      pr.pull.draft = false;
      pr.updated_at = iso(Date.now());
      ctx.state.deliver('pull_request', 'ready_for_review', repo, { number: pr.number, pull_request: ctx.state.shapes.pull(repo, pr) }, login);
    }
    return { clientMutationId: input.clientMutationId ?? null, pullRequest: pullView(ctx, repo, pr) };
  },
};

function githubError(error: GraphQLError): Record<string, unknown> {
  const typed = error.originalError instanceof TypedError ? error.originalError : undefined;
  return {
    ...(typed ? { type: typed.type } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(error.locations ? { locations: error.locations } : {}),
    message: error.message,
  };
}

async function execute(ctx: Ctx): Promise<{ status: number; body: unknown }> {
  if (!ctx.who) throw new GitHubApiError(401, 'This endpoint requires you to be authenticated.', { documentation_url: `${GRAPHQL_DOCS}/guides/forming-calls-with-graphql#authenticating-with-graphql` });
  const query = ctx.body.query;
  if (typeof query !== 'string') return { status: 200, body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] } };
  const variables = ctx.body.variables;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return { status: 200, body: { errors: [{ message: 'Variables are invalid JSON.' }] } };
  }
  const result = await graphql({
    schema: SCHEMA,
    source: query,
    rootValue: ROOT,
    contextValue: { state: ctx.state, who: ctx.who } satisfies Context,
    variableValues: (variables ?? {}) as Record<string, unknown>,
    ...(typeof ctx.body.operationName === 'string' ? { operationName: ctx.body.operationName } : {}),
  });
  const body: Record<string, unknown> = {};
  if ('data' in result) body.data = result.data;
  if (result.errors?.length) body.errors = result.errors.map(githubError);
  return { status: 200, body };
}

export const GRAPHQL_ROUTES: Route[] = [route('POST', '/graphql', execute)];
