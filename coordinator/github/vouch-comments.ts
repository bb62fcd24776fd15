/**
 * The `/owp vouch @login [reason]` and `/owp denounce @login reason` comment commands on a
 * connected repo's issues and PRs (webhook `issue_comment`, action `created`), after Ghostty's
 * vouch workflow: accepted only from people whose role on the repo is triage or more (GitHub's
 * collaborator permission API, `role_name`), carried out as contributor.vouch / contributor.denounce,
 * and answered with a reply comment. The comment's text is untrusted: only the command's login
 * (checked against GitHub's login syntax) reaches the reply; the reason is stored, never echoed.
 * Repos connected by polling get the same through pollVouchComments.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { ConnectedRepo, IntegrationContext } from './context.ts';

/** The roles that may vouch and denounce: triage rights or more. */
export const VOUCH_ROLES: readonly string[] = ['triage', 'write', 'maintain', 'admin'];

const COMMAND = /^\/owp[ \t]+(vouch|denounce)[ \t]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?:[ \t]+([^\r\n]+))?[ \t]*$/m;

export interface VouchCommand {
  action: 'vouch' | 'denounce';
  login: string;
  reason?: string;
}

/** The first `/owp vouch|denounce @login` line of a comment, or undefined. */
export function parseVouchCommand(body: string): VouchCommand | undefined {
  const m = COMMAND.exec(body);
  if (!m) return undefined;
  const reason = m[3]?.trim();
  return { action: m[1] as 'vouch' | 'denounce', login: m[2] as string, ...(reason ? { reason: reason.slice(0, 500) } : {}) };
}

/** One comment as both ways of reading it (a webhook payload, the repo-wide comment list) give it. */
export interface RepoComment {
  id: number;
  body: string;
  login: string;
  bot: boolean;
  issue: number;
}

/** Acts on one `issue_comment` delivery; anything but a created comment with a command is ignored. */
export async function onVouchComment(ctx: IntegrationContext, repo: ConnectedRepo, payload: Record<string, unknown>): Promise<void> {
  if (payload.action !== 'created') return;
  const comment = payload.comment as { id?: unknown; body?: unknown; user?: { login?: unknown; type?: unknown } } | undefined;
  const issue = (payload.issue as { number?: unknown } | undefined)?.number;
  if (typeof comment?.id !== 'number' || typeof comment.body !== 'string' || typeof comment.user?.login !== 'string' || typeof issue !== 'number') return;
  await actOnVouchComment(ctx, repo, { id: comment.id, body: comment.body, login: comment.user.login, bot: comment.user.type === 'Bot', issue });
}

/**
 * Carries out a comment's command, once per comment id whichever way it arrived (webhook or
 * poll) and across restarts (SyncState.takeComment). A comment without a command is not recorded.
 */
export async function actOnVouchComment(ctx: IntegrationContext, repo: ConnectedRepo, comment: RepoComment): Promise<void> {
  if (comment.bot) return;
  const command = parseVouchCommand(comment.body);
  if (!command) return;
  const now = ctx.runtime?.clock.now() ?? Date.now();
  const taken = ctx.state.takeComment(comment.id, now);
  if (!taken) return;
  try {
    await carryOut(ctx, repo, comment, command, taken.done);
  } catch (error) {
    taken.failed();
    throw error;
  }
}

async function carryOut(ctx: IntegrationContext, repo: ConnectedRepo, comment: RepoComment, command: VouchCommand, recorded: () => Promise<void>): Promise<void> {
  const { issue, login: by } = comment;
  // Recorded before the reply: a restart between the two loses a reply, never repeats an action's reply.
  // With `comments: false` OWP writes nothing on the repo (its token may hold only read access to
  // issues): the outcome is logged and shown on the dashboard, and no reply is attempted.
  const reply = async (text: string): Promise<void> => {
    await recorded();
    if (!repo.config.comments) {
      ctx.log.info({ repo: repo.config.repo, issue, comment: comment.id }, `${repo.config.repo}: not replying on #${issue} (comments: false): ${text}`);
      return;
    }
    await repo.client.createComment(repo.owner, repo.name, issue, text);
  };
  const role = await repo.client.collaboratorRole(repo.owner, repo.name, by);
  if (!VOUCH_ROLES.includes(role)) {
    ctx.log.warn({ repo: repo.config.repo, by, role, action: command.action }, `${by} (role ${role}) may not ${command.action} in ${repo.config.repo}`);
    await reply(`@${by} only people with triage rights or more on ${repo.config.repo} may ${command.action} (your role: ${role}). Nothing changed.`);
    return;
  }
  if (command.action === 'denounce' && !command.reason) {
    await reply(`@${by} \`/owp denounce @${command.login}\` needs a reason after the login: the list is shared, so say why. Nothing changed.`);
    return;
  }
  const reason = command.reason ?? `vouched for by @${by} on #${issue}`;
  const key = `github:vouch-comment:${String(comment.id)}`;
  try {
    await ctx.call(command.action === 'vouch' ? 'contributor.vouch' : 'contributor.denounce', { repo: repo.config.repo, login: command.login, reason: `${reason} (@${by} on #${issue})`.slice(0, 500), idempotency_key: key });
  } catch (error) {
    // The coordinator busy or cut off: no reply, the comment is tried again (next poll, or GitHub's redelivery).
    if (!(error instanceof OwpError) || error.code === 'UNAVAILABLE') throw error;
    // A refusal would be the same next time: say so once.
    ctx.log.warn({ repo: repo.config.repo, by, login: command.login, code: error.code }, `${command.action} of ${command.login} in ${repo.config.repo} by comment was refused: ${error.message}`);
    await reply(`@${by} OWP could not ${command.action} @${command.login} (${error.code}). Nothing changed.`);
    return;
  }
  ctx.log.info({ repo: repo.config.repo, by, login: command.login, action: command.action }, `${by} ${command.action === 'vouch' ? 'vouched for' : 'denounced'} ${command.login} in ${repo.config.repo} by comment`);
  await reply(command.action === 'vouch'
    ? `✅ @${command.login} is vouched for in ${repo.config.repo} (by @${by}).`
    : `⛔ @${command.login} is denounced in ${repo.config.repo} (by @${by}): OWP offers them no work here.`);
}

/**
 * The polling side (a repo without webhooks): reads the repo's comments updated since the last
 * poll (GitHub's "list issue comments for a repository", every page, conditionally), acts on the
 * commands among those created since then, and moves the watermark to the newest update read. A
 * repo's first poll starts from now: commands written before OWP watched the repo are history.
 * An old comment edited later comes back in the list but was created before the watermark, so it
 * is not acted on (as the webhook acts only on `created`).
 */
export async function pollVouchComments(ctx: IntegrationContext, repo: ConnectedRepo, now: number): Promise<void> {
  const marks = (ctx.state.data.comment_since ??= {});
  let since = marks[repo.config.repo];
  if (since === undefined) {
    since = marks[repo.config.repo] = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await ctx.state.save();
  }
  const { data, changed } = await repo.client.repoComments(repo.owner, repo.name, since);
  if (!changed) return;
  const from = Date.parse(since);
  let newest = since;
  for (const c of data) {
    const issue = Number(/\/issues\/(\d+)$/.exec(c.issue_url ?? '')?.[1]);
    const created = Date.parse(c.created_at ?? '');
    if (c.updated_at && Date.parse(c.updated_at) > Date.parse(newest)) newest = c.updated_at;
    if (!Number.isInteger(issue) || issue <= 0 || !(created >= from) || typeof c.body !== 'string' || !c.user) continue;
    try {
      await actOnVouchComment(ctx, repo, { id: c.id, body: c.body, login: c.user.login, bot: c.user.type === 'Bot', issue });
    } catch (error) {
      // The watermark stays before this comment, so the next poll tries it again.
      ctx.log.warn({ repo: repo.config.repo, comment: c.id, err: error }, `${repo.config.repo}: acting on comment ${c.id} failed; the next poll tries again`);
      return;
    }
  }
  if (newest !== since) {
    marks[repo.config.repo] = newest;
    await ctx.state.save();
  }
}
