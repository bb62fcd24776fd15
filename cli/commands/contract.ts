/** `owp contract validate [FILE]` and `owp contract apply [FILE] --repo R`: the repo contract (.owp.yml). */
import { CONTRACT_FILE, checkContractText } from '../../protocol/contract-schema.ts';
import { settingsFromRepoFiles } from '../../coordinator/repo-files.ts';
import { UsageError } from '../args.ts';
import { COORDINATOR_FLAGS_USAGE, coordinatorClient, parseCoordinatorCommand, orReport, readFileText, validateFile } from '../file-report.ts';

export const USAGE = `Usage: owp contract validate [FILE] [--json]
       owp contract apply [FILE] --repo OWNER/NAME [--coordinator URL] [--token T]

validate  checks a repo contract (default ./${CONTRACT_FILE}) and reports every problem as
          FILE:LINE:COLUMN with a hint; exits 1 when it has errors (warnings do not fail).
          --json prints the diagnostics as JSON instead.
apply     sets the repo's required_gates on the coordinator from the contract's gates
          (a maintainer token for the repo is needed).
${COORDINATOR_FLAGS_USAGE}`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCoordinatorCommand(argv, {
    json: { type: 'boolean' },
    repo: { type: 'string' },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [action, file = CONTRACT_FILE, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`);
  if (action === 'validate') return validateFile(file, 'contract', checkContractText, values.json);
  if (action === 'apply') {
    if (!values.repo) throw new UsageError(`contract apply needs --repo OWNER/NAME.\n\n${USAGE}`);
    const text = await readFileText(file, 'contract');
    const settings = orReport(() => settingsFromRepoFiles({ contract: text }, { contract: file }));
    if (!settings) return 1;
    const client = coordinatorClient(values, 'owp contract apply');
    const result = await client.call('repo.configure', { repo: values.repo, ...settings });
    console.log(`${values.repo}: required_gates = [${result.settings.required_gates.join(', ')}]`);
    return 0;
  }
  throw new UsageError(`owp contract needs an action: validate or apply.\n\n${USAGE}`);
}
