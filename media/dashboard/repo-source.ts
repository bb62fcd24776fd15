/**
 * What the repo card says about where a repo's settings come from (SPEC REPO-002): the commit of
 * the default branch whose `.owp.yml` / `.owp/policy.yml` are in force, the CI checks a PR needs,
 * which settings the coordinator's own config sets (it wins over the files), and a refused read
 * with each problem's file, line and column. Plain data: the panel renders it as text.
 */
import type { RepoSettings } from '../../protocol/model.ts';

export interface SourceLine {
  kind: 'source' | 'checks' | 'config' | 'error' | 'problem';
  text: string;
}

export function repoSourceLines(settings: RepoSettings): SourceLine[] {
  const out: SourceLine[] = [];
  const source = settings.source;
  const checks = settings.required_checks ?? [];
  out.push({ kind: 'checks', text: checks.length > 0 ? `CI checks a PR needs: ${checks.join(', ')}` : 'No CI checks required: gate results are self-reported' });
  if (!source) return out;
  if (source.disconnected) {
    const what = source.disconnected.reason === 'app_suspended' ? 'is suspended' : 'was uninstalled';
    out.push({ kind: 'error', text: `Not connected to GitHub: the GitHub App ${what} (installation ${source.disconnected.installation_id ?? '?'}, ${new Date(source.disconnected.at).toISOString().slice(0, 16).replace('T', ' ')} UTC). No sync; PR reports are refused until it is installed again` });
  }
  const where = source.from === 'github' ? `${settings.repo}@${source.ref ?? 'default branch'}` : 'a local checkout';
  const files = source.files.filter((f) => f.present).map((f) => f.path);
  out.push({ kind: 'source', text: source.sha ? `Settings from ${where} ${source.sha.slice(0, 7)} (${files.length > 0 ? files.join(', ') : 'no contract or policy file: defaults'})` : `No valid files read yet from ${where}` });
  const fromConfig = Object.entries(source.origins).filter(([, origin]) => origin === 'config').map(([key]) => key);
  if (fromConfig.length > 0) out.push({ kind: 'config', text: `Set by the coordinator's config (wins over the files): ${fromConfig.sort().join(', ')}` });
  if (source.rejected) {
    out.push({ kind: 'error', text: `Refused ${source.rejected.sha ? source.rejected.sha.slice(0, 7) : 'a read'}: the last valid files stay in force until this is fixed` });
    for (const p of source.rejected.problems) out.push({ kind: 'problem', text: `${p.file}:${p.line}:${p.column}: ${p.message}${p.hint ? ` (${p.hint})` : ''}` });
  }
  return out;
}
