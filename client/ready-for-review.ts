/**
 * Takes the volunteer's draft pull request out of draft once the coordinator says it counts (its
 * required CI checks passed), with the volunteer's own token: the coordinator never writes to
 * PRs. GitHub's REST API has no endpoint for this; its GraphQL API has the
 * `markPullRequestReadyForReview` mutation, which takes the PR's global id (read first, with
 * `isDraft`, so a PR already out of draft costs no write).
 */
import type { Octokit } from '@octokit/rest';
import { githubFailure } from './github-api.ts';

export interface ReadyForReviewResult {
  /** False when the PR was not a draft (any more): nothing was written. */
  changed: boolean;
  url: string;
}

export class ReadyForReviewError extends Error {
  constructor(
    message: string,
    /** GitHub's GraphQL error type (NOT_FOUND, FORBIDDEN, …) or the HTTP status. */
    readonly reason: string,
  ) {
    super(message);
  }
}

const READ = `query OwpPullRequestDraft($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { id isDraft url state } }
}`;

const MARK = `mutation OwpMarkReady($id: ID!) {
  markPullRequestReadyForReview(input: { pullRequestId: $id }) { pullRequest { isDraft url } }
}`;

interface PullRequestDraft {
  id: string;
  isDraft: boolean;
  url: string;
  state: 'OPEN' | 'CLOSED' | 'MERGED';
}

function explain(error: unknown, what: string): ReadyForReviewError {
  const e = error as { errors?: Array<{ type?: string; message?: string }> };
  const first = e.errors?.[0];
  if (first) {
    if (first.type === 'FORBIDDEN') return new ReadyForReviewError(`GitHub did not let your token mark ${what} ready for review (${first.message ?? 'forbidden'}). Use a token that may write pull requests there (classic: public_repo; fine-grained: Pull requests read and write), or press "Ready for review" on the PR's page.`, 'FORBIDDEN');
    return new ReadyForReviewError(`GitHub could not mark ${what} ready for review: ${first.message ?? first.type ?? 'unknown error'}.`, first.type ?? 'GRAPHQL');
  }
  const { status, detail } = githubFailure(error);
  if (status === 401) return new ReadyForReviewError(`GitHub rejected your token (401) while marking ${what} ready for review. Save a new token and try again.`, '401');
  return new ReadyForReviewError(`Could not mark ${what} ready for review (${status ?? 'no answer'}: ${detail}). Try again, or press "Ready for review" on the PR's page.`, String(status ?? 'network'));
}

export async function markReadyForReview(octokit: Octokit, pr: { owner: string; repo: string; number: number }): Promise<ReadyForReviewResult> {
  const what = `${pr.owner}/${pr.repo}#${pr.number}`;
  let draft: PullRequestDraft | null | undefined;
  try {
    const data = await octokit.graphql<{ repository: { pullRequest: PullRequestDraft | null } | null }>(READ, { owner: pr.owner, name: pr.repo, number: pr.number });
    draft = data.repository?.pullRequest;
  } catch (error) {
    throw explain(error, what);
  }
  if (!draft) throw new ReadyForReviewError(`GitHub cannot find ${what} with your token.`, 'NOT_FOUND');
  if (!draft.isDraft) return { changed: false, url: draft.url };
  if (draft.state !== 'OPEN') throw new ReadyForReviewError(`${what} is ${draft.state.toLowerCase()}; only an open PR can be marked ready for review.`, 'UNPROCESSABLE');
  try {
    const data = await octokit.graphql<{ markPullRequestReadyForReview: { pullRequest: { isDraft: boolean; url: string } } }>(MARK, { id: draft.id });
    return { changed: true, url: data.markPullRequestReadyForReview.pullRequest.url };
  } catch (error) {
    throw explain(error, what);
  }
}
