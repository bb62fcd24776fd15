/**
 * Turns a repo's own files — the contract (`.owp.yml`) and the policy (`.owp/policy.yml`) — into
 * the repo settings the coordinator enforces: the contract's gates become `required_gates`, the
 * policy becomes `policy` (its budget sets max_open_prs / max_new_prs_per_hour), and the contract's
 * safe lanes fill the policy's lanes when it names none. Reading from a local checkout is here; the
 * GitHub integration can fetch the two texts and call `settingsFromRepoFiles` itself.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTRACT_FILE, DEFAULT_CHECKS_TIMEOUT_MINUTES, checkContractText } from '../protocol/contract-schema.ts';
import type { SettingOrigin } from '../protocol/model.ts';
import type { Params } from '../protocol/operations.ts';
import { POLICY_FILE, checkPolicyText, type RepoPolicy } from '../protocol/policy-schema.ts';
import { FileProblemsError, type FileProblems } from '../protocol/yaml-diagnostics.ts';

export type RepoFileSettings = Pick<Params<'repo.configure'>, 'required_gates' | 'required_checks' | 'checks_timeout_ms' | 'policy' | 'areas'>;

export interface RepoFiles {
  /** `.owp.yml` text, or undefined when the repo has none (its gates then stay as configured). */
  contract?: string | undefined;
  /** `.owp/policy.yml` text, or undefined when the repo has none (no policy rules). */
  policy?: string | undefined;
}

/** Settings from the two files' texts. Throws FileProblemsError (every error, with positions) when one is invalid. */
export function settingsFromRepoFiles(files: RepoFiles, names: { contract?: string; policy?: string } = {}): RepoFileSettings {
  const settings: RepoFileSettings = {};
  const problems: FileProblems[] = [];
  const contract = files.contract === undefined ? undefined : checkContractText(files.contract);
  const policy = files.policy === undefined ? undefined : checkPolicyText(files.policy);
  if (contract && !contract.value) problems.push({ file: names.contract ?? CONTRACT_FILE, diagnostics: contract.diagnostics.filter((d) => d.severity === 'error') });
  if (policy && !policy.value) problems.push({ file: names.policy ?? POLICY_FILE, diagnostics: policy.diagnostics.filter((d) => d.severity === 'error') });
  const [first, ...more] = problems;
  if (first) throw new FileProblemsError(first.file, first.diagnostics, ...more);
  if (contract?.value) {
    settings.required_gates = [...(contract.value.gates ?? ['tests'])];
    // A contract without a ci section turns CI gates off: the file is the whole truth.
    settings.required_checks = [...(contract.value.ci?.checks ?? [])];
    // The file is the whole truth here too: a contract without areas clears them.
    settings.areas = structuredClone(contract.value.areas ?? {});
    if (contract.value.ci) settings.checks_timeout_ms = (contract.value.ci.timeout_minutes ?? DEFAULT_CHECKS_TIMEOUT_MINUTES) * 60_000;
  }
  if (policy?.value) {
    const value: RepoPolicy = structuredClone(policy.value);
    const lanes = contract?.value?.safe_lanes;
    if (value.safe_lanes && !value.safe_lanes.lanes && lanes) value.safe_lanes.lanes = [...lanes];
    settings.policy = value;
  }
  return settings;
}

/** Which file each of these settings came from (a policy's budget sets the two budget settings). */
export function fileOrigins(settings: RepoFileSettings): Record<string, SettingOrigin> {
  const origins: Record<string, SettingOrigin> = {};
  for (const key of ['required_gates', 'required_checks', 'checks_timeout_ms', 'areas'] as const) if (settings[key] !== undefined) origins[key] = 'contract';
  if (settings.policy) {
    origins.policy = 'policy';
    for (const key of Object.keys(settings.policy.budget ?? {})) if (key !== 'adaptive') origins[key] = 'policy';
  }
  return origins;
}

/** A file's text, or undefined when it does not exist. */
export async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads `.owp.yml` and `.owp/policy.yml` from a local checkout of the repo. */
export async function settingsFromCheckout(dir: string): Promise<RepoFileSettings> {
  const contractPath = join(dir, CONTRACT_FILE);
  const policyPath = join(dir, POLICY_FILE);
  const [contract, policy] = await Promise.all([readIfPresent(contractPath), readIfPresent(policyPath)]);
  return settingsFromRepoFiles({ contract, policy }, { contract: contractPath, policy: policyPath });
}
