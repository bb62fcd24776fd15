/** Issues (listed with GitHub's filters, read, edited) and their comments. */
import { DOCS, GitHubApiError, lower } from '../model.ts';
import { field, invalidParam, loginOf, num, oneOf, paginate, repoOf, route, seg, sortAndFilterByTime, type Route } from '../router.ts';

/** Labels are given as names or as `{ name }` objects. */
function labelNames(list: unknown[] | undefined): string[] | undefined {
  return list?.map((l) => {
    if (typeof l === 'string') return l;
    if (typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string') return (l as { name: string }).name;
    throw invalidParam('Issue', 'labels');
  });
}

export const ISSUE_ROUTES: Route[] = [
  route('GET', `/repos/${seg}/${seg}/issues`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    const state = oneOf(ctx.query, 'state', ['open', 'closed', 'all'], 'open', 'Issue');
    let items = ctx.state.allIssues(repo).filter((i) => state === 'all' || i.state === state);
    const labels = ctx.query.get('labels');
    if (labels) {
      const wanted = labels.split(',').map((l) => lower(l.trim())).filter(Boolean);
      items = items.filter((i) => wanted.every((w) => i.labels.some((l) => lower(l) === w)));
    }
    const assignee = ctx.query.get('assignee');
    if (assignee === 'none') items = items.filter((i) => i.assignees.length === 0);
    else if (assignee === '*') items = items.filter((i) => i.assignees.length > 0);
    else if (assignee) items = items.filter((i) => i.assignees.some((a) => lower(a) === lower(assignee)));
    const creator = ctx.query.get('creator');
    if (creator) items = items.filter((i) => lower(i.user) === lower(creator));
    items = sortAndFilterByTime(items, ctx.query, ['created', 'updated', 'comments'], 'Issue');
    return paginate(ctx, items, (i) => ctx.state.shapes.issue(repo, i));
  }),

  // "List issue comments for a repository": every issue's and PR's comments, ascending id unless
  // `sort` (created|updated) is given, then in `direction` (ignored without sort); `since` keeps
  // comments updated at or after it.
  route('GET', `/repos/${seg}/${seg}/issues/comments`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    const all = ctx.state.commentsIn(`${repo.owner}/${repo.name}`).sort((a, b) => a.id - b.id);
    let items: typeof all;
    if (ctx.query.get('sort') === null) {
      const since = ctx.query.get('since');
      const t = since === null ? undefined : Date.parse(since);
      if (t !== undefined && Number.isNaN(t)) throw invalidParam('IssueComment', 'since');
      items = t === undefined ? all : all.filter((c) => Date.parse(c.updated_at) >= t);
    } else items = sortAndFilterByTime(all, ctx.query, ['created', 'updated'], 'IssueComment');
    return paginate(ctx, items, (c) => ctx.state.shapes.comment(c));
  }),

  route('GET', `/repos/${seg}/${seg}/issues/comments/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    return { status: 200, body: ctx.state.shapes.comment(ctx.state.comment(Number(ctx.params[2]), repo)) };
  }),

  route('PATCH', `/repos/${seg}/${seg}/issues/comments/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'write');
    const c = ctx.state.comment(Number(ctx.params[2]), repo);
    const body = field(ctx.body, 'body', 'string', true, 'IssueComment') as string;
    ctx.state.editComment(repo, c, body, loginOf(ctx));
    return { status: 200, body: ctx.state.shapes.comment(c) };
  }),

  route('GET', `/repos/${seg}/${seg}/issues/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    return { status: 200, body: ctx.state.shapes.issue(repo, ctx.state.issueOf(repo, Number(ctx.params[2]))) };
  }),

  route('PATCH', `/repos/${seg}/${seg}/issues/${num}`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'write');
    const number = Number(ctx.params[2]);
    ctx.state.issueOf(repo, number);
    const title = field(ctx.body, 'title', 'string', false) as string | undefined;
    const body = field(ctx.body, 'body', 'string', false) as string | undefined;
    const state = field(ctx.body, 'state', 'string', false) as string | undefined;
    if (state !== undefined && state !== 'open' && state !== 'closed') throw invalidParam('Issue', 'state');
    const labels = labelNames(field(ctx.body, 'labels', 'array', false) as unknown[] | undefined);
    const assignees = field(ctx.body, 'assignees', 'array', false) as unknown[] | undefined;
    const updated = ctx.state.updateIssue(`${repo.owner}/${repo.name}`, number, {
      ...(title !== undefined ? { title } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(state !== undefined ? { state: state as 'open' | 'closed' } : {}),
      ...(labels !== undefined ? { labels } : {}),
      ...(assignees !== undefined ? { assignees: assignees.map(String) } : {}),
    }, loginOf(ctx));
    return { status: 200, body: ctx.state.shapes.issue(repo, updated) };
  }),

  route('GET', `/repos/${seg}/${seg}/issues/${num}/comments`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'read');
    const issue = ctx.state.issueOf(repo, Number(ctx.params[2]));
    let items = ctx.state.commentsOn(`${repo.owner}/${repo.name}`, issue.number).sort((a, b) => a.id - b.id);
    const since = ctx.query.get('since');
    if (since !== null) {
      const t = Date.parse(since);
      if (Number.isNaN(t)) throw invalidParam('IssueComment', 'since');
      items = items.filter((c) => Date.parse(c.updated_at) >= t);
    }
    return paginate(ctx, items, (c) => ctx.state.shapes.comment(c));
  }),

  route('POST', `/repos/${seg}/${seg}/issues/${num}/comments`, (ctx) => {
    const repo = repoOf(ctx);
    ctx.state.access.requirePermission(ctx.who, 'issues', 'write');
    const issue = ctx.state.issueOf(repo, Number(ctx.params[2]));
    const body = field(ctx.body, 'body', 'string', true, 'IssueComment') as string;
    const login = loginOf(ctx);
    if (issue.locked && lower(login) !== lower(repo.owner)) {
      throw new GitHubApiError(403, 'Unable to create comment because issue is locked.', { documentation_url: DOCS });
    }
    const c = ctx.state.addComment(repo, issue, login, body);
    return { status: 201, body: ctx.state.shapes.comment(c), headers: { location: `${ctx.state.apiUrl}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}` } };
  }),
];
