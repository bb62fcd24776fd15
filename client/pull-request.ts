/**
 * Opens a task's pull request as the volunteer, with their own token: OWP's coordinator never
 * holds a volunteer's GitHub identity. Title and body follow the repo contract's templates, with
 * attribution and `Closes #N`. The API base URL is configurable for GitHub Enterprise
 * (`https://ghe.example.com/api/v3`) and for local test servers.
 */
import { inertForGitHub } from '../protocol/untrusted-text.ts';
import type { Task } from '../protocol/model.ts';
import type { RepoContract } from './contract.ts';
import { GITHUB_API_URL, githubFailure, volunteerOctokit } from './github-api.ts';
import { oneLine } from './prompt.ts';

export interface PullRequestInput {
  token: string;
  owner: string;
  repo: string;
  /** The pushed branch; `login:branch` for a branch on a fork. */
  head: string;
  /** The branch to merge into (the repo's default branch). */
  base: string;
  task: Pick<Task, 'id' | 'title' | 'body'> & Partial<Pick<Task, 'issue'>>;
  contract: RepoContract;
  /** The volunteer's own summary of the change (goes in `{body}`); defaults to the task title. */
  summary?: string;
  /** Items of the contract checklist the volunteer confirmed; all of them when omitted. */
  checklistConfirmed?: boolean;
  /** Who opened it and through what, e.g. "Opened by @alice with Claude Code via OWP". */
  attribution?: string;
  /** Default: the contract's `pr.draft` (true unless the contract says otherwise). */
  draft?: boolean;
  apiBaseUrl?: string;
  userAgent?: string;
  /** For tests and proxies. */
  request?: { fetch?: typeof fetch; timeout?: number };
}

export interface OpenedPullRequest {
  url: string;
  number: number;
  draft: boolean;
  /** The PR for this head was already open (a submit after a new push): nothing was created. */
  existing?: boolean;
}

export class PullRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, key: string) => (key in values ? values[key]! : whole));
}

export function pullRequestTitle(contract: RepoContract, task: PullRequestInput['task']): string {
  const title = fill(contract.pr.title, {
    task_id: task.id,
    // The issue's title is a stranger's: its @mentions and closing keywords must not act (inertForGitHub).
    title: inertForGitHub(oneLine(task.title, 200)),
    issue_number: task.issue ? String(task.issue.number) : '',
  });
  // The parts are visible text already; collapsing again with oneLine would strip the joiners that keep the title inert.
  const flat = title.replace(/\s+/g, ' ').trim();
  return flat.length > 256 ? `${flat.slice(0, 255)}…` : flat;
}

export function pullRequestBody(input: Pick<PullRequestInput, 'contract' | 'task' | 'summary' | 'checklistConfirmed' | 'attribution'>): string {
  const { contract, task } = input;
  const confirmed = input.checklistConfirmed ?? true;
  const checklist = contract.pr.checklist.map((item) => `- [${confirmed ? 'x' : ' '}] ${item}`).join('\n');
  const attribution = input.attribution ?? `Opened via OWP (Open Work Protocol) for task ${task.id}.`;
  const issueNumber = task.issue ? String(task.issue.number) : '';
  let body = fill(contract.pr.body, {
    task_id: task.id,
    title: inertForGitHub(oneLine(task.title, 200)),
    issue_number: issueNumber,
    issue_url: task.issue?.url ?? '',
    checklist,
    attribution,
    // The summary may be the AI tool's words: inert too; only the template's own line closes the issue.
    body: inertForGitHub(input.summary ?? oneLine(task.title, 200)),
  });
  // A template line about the issue makes no sense when the task has none ("Closes #").
  if (!task.issue) body = body.split('\n').filter((line) => !/^\s*(close[sd]?|fix(e[sd])?|resolve[sd]?)\s+#\s*$/i.test(line)).join('\n');
  // GitHub links the PR to the issue only with a closing keyword; add one if the template forgot.
  if (task.issue && !new RegExp(`(close[sd]?|fix(e[sd])?|resolve[sd]?) #${task.issue.number}\\b`, 'i').test(body)) body += `\n\nCloses #${task.issue.number}`;
  return body.replace(/\n{3,}/g, '\n\n').trim();
}

function explain(status: number | undefined, message: string, input: PullRequestInput): string {
  const where = `${input.owner}/${input.repo}`;
  switch (status) {
    case 401:
      return `GitHub rejected your token (401). Create a new token with "repo" (or "public_repo") scope and try again.`;
    case 403:
      if (/rate limit/i.test(message)) return `GitHub's rate limit was hit (403). Wait a few minutes and run submit again; your branch is pushed.`;
      return `Your token may not open pull requests in ${where} (403: ${message}). Use a token with "repo" or "pull_requests: write" access, or open the PR from a fork.`;
    case 404:
      return `GitHub cannot see ${where} with your token (404). Check the repo name, and that the token can access it (private repos need "repo" scope).`;
    case 422:
      if (/already exists/i.test(message)) return `A pull request for ${input.head} already exists in ${where} (422). Open it on GitHub, or report its URL with \`owp submit --pr-url URL\`.`;
      if (/no commits between/i.test(message)) return `The branch ${input.head} has no commits that ${input.base} lacks (422). Commit your change, push, and submit again.`;
      return `GitHub refused the pull request (422: ${message}). Most often the branch ${input.head} is not pushed to ${where} yet: push it and submit again.`;
    default:
      if (status === undefined) return `Cannot reach GitHub at ${input.apiBaseUrl ?? GITHUB_API_URL} (${message}). Check your network or the API URL setting.`;
      return `GitHub answered ${status} when opening the pull request: ${message}. Try again in a moment.`;
  }
}

/** Opens the PR; throws PullRequestError with a message that says what to do. */
export async function openPullRequest(input: PullRequestInput): Promise<OpenedPullRequest> {
  const octokit = volunteerOctokit(input);
  try {
    const { data } = await octokit.rest.pulls.create({
      owner: input.owner,
      repo: input.repo,
      head: input.head,
      base: input.base,
      title: pullRequestTitle(input.contract, input.task),
      body: pullRequestBody(input),
      draft: input.draft ?? input.contract.pr.draft,
      maintainer_can_modify: true,
    });
    return { url: data.html_url, number: data.number, draft: data.draft ?? false };
  } catch (error) {
    const { status, detail } = githubFailure(error);
    // Submitting again after a fix pushes new commits to the PR's head; the PR itself is there.
    if (status === 422 && /already exists/i.test(detail)) {
      const open = await findOpenPullRequest(input).catch(() => undefined);
      if (open) return open;
    }
    throw new PullRequestError(explain(status, detail, input), status);
  }
}

/** The open PR whose head is `input.head` (`login:branch`, or a branch of the upstream itself). */
async function findOpenPullRequest(input: PullRequestInput): Promise<OpenedPullRequest | undefined> {
  const head = input.head.includes(':') ? input.head : `${input.owner}:${input.head}`;
  const { data } = await volunteerOctokit(input).rest.pulls.list({ owner: input.owner, repo: input.repo, head, state: 'open', per_page: 10 });
  const pr = data.find((p) => p.head.ref === head.slice(head.indexOf(':') + 1));
  return pr ? { url: pr.html_url, number: pr.number, draft: pr.draft ?? false, existing: true } : undefined;
}
