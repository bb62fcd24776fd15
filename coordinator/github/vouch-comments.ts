/**
 * The `/owp vouch @login [reason]` and `/owp denounce @login reason` comment commands on a
 * connected repo's issues and PRs (webhook `issue_comment`, action `created`), after Ghostty's
 * vouch workflow: accepted only from people whose role on the repo is triage or more (GitHub's
 * collaborator permission API, `role_name`), carried out as contributor.vouch / contributor.denounce,
 * and answered with a reply comment. The comment's text is untrusted: only the command's login
 * (checked against GitHub's login syntax) reaches the reply; the reason is stored, never echoed.
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

/** Acts on one `issue_comment` delivery; anything but a created comment with a command is ignored. */
export async function onVouchComment(ctx: IntegrationContext, repo: ConnectedRepo, payload: Record<string, unknown>): Promise<void> {
  if (payload.action !== 'created') return;
  const comment = payload.comment as { id?: unknown; body?: unknown; user?: { login?: unknown; type?: unknown } } | undefined;
  const issue = (payload.issue as { number?: unknown } | undefined)?.number;
  if (typeof comment?.body !== 'string' || typeof comment.user?.login !== 'string' || typeof issue !== 'number') return;
  if (comment.user.type === 'Bot') return;
  const command = parseVouchCommand(comment.body);
  if (!command) return;
  const by = comment.user.login;
  const reply = (text: string) => repo.client.createComment(repo.owner, repo.name, issue, text);
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
    const code = error instanceof OwpError ? error.code : 'INTERNAL';
    await reply(`@${by} OWP could not ${command.action} @${command.login} (${code}). Nothing changed.`);
    throw error;
  }
  ctx.log.info({ repo: repo.config.repo, by, login: command.login, action: command.action }, `${by} ${command.action === 'vouch' ? 'vouched for' : 'denounced'} ${command.login} in ${repo.config.repo} by comment`);
  await reply(command.action === 'vouch'
    ? `✅ @${command.login} is vouched for in ${repo.config.repo} (by @${by}).`
    : `⛔ @${command.login} is denounced in ${repo.config.repo} (by @${by}): OWP offers them no work here.`);
}
