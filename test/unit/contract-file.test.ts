/** The repo contract (.owp.yml): parsing over defaults, and every validation error with its position and hint. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONTRACT, checkContract, loadContract, parseContract } from '../../client/contract.ts';
import { FileProblemsError, formatDiagnostic, type Diagnostic } from '../../protocol/yaml-diagnostics.ts';
import { tempDir } from '../helpers/coordinator.ts';
import { readmeExample } from '../helpers/readme.ts';

function only(diagnostics: Diagnostic[], severity: 'error' | 'warning' = 'error'): Diagnostic {
  const matching = diagnostics.filter((d) => d.severity === severity);
  assert.equal(matching.length, 1, matching.map((d) => formatDiagnostic('.owp.yml', d)).join('\n'));
  return matching[0] as Diagnostic;
}

describe('contract parsing', () => {
  test('the README example is a valid contract and parses to what it says', () => {
    const { contract, diagnostics } = checkContract(readmeExample('### `.owp.yml`'));
    assert.deepEqual(diagnostics, []);
    assert.ok(contract);
    assert.deepEqual(contract.setup, ['npm ci']);
    assert.deepEqual(contract.test, ['npm run build', 'npm test']);
    assert.deepEqual(contract.gates, ['tests', 'lint', 'checklist']);
    assert.equal(contract.branch, 'owp/{task_id}-{slug}');
    assert.match(contract.pr.body, /Closes #\{issue_number\}/);
    assert.deepEqual(Object.keys(contract.areas), ['docs/api', 'docs', 'tests', 'core', 'release']);
  });

  test('an empty file is the defaults (with a warning that the default tests gate has no command)', () => {
    const { contract, diagnostics } = checkContract('');
    assert.deepEqual(contract, DEFAULT_CONTRACT);
    assert.match(only(diagnostics, 'warning').message, /no test command/);
  });

  test('a single command becomes a list; pr keys merge over the default template', () => {
    const contract = parseContract('test: npm test\npr:\n  draft: false\n');
    assert.deepEqual(contract.test, ['npm test']);
    assert.equal(contract.pr.draft, false);
    assert.equal(contract.pr.title, DEFAULT_CONTRACT.pr.title);
  });

  test('parseContract throws every error with its position', () => {
    assert.throws(() => parseContract('test: npm test\nsetpu: npm ci\ngates: [tests, lintt]\n', 'repo/.owp.yml'), (error: unknown) => {
      assert.ok(error instanceof FileProblemsError);
      assert.equal(error.diagnostics.length, 2);
      assert.match(error.message, /repo\/\.owp\.yml:2:1: error: Unknown key "setpu" in the file\.\n {4}hint: Did you mean "setup"\?/);
      assert.match(error.message, /repo\/\.owp\.yml:3:16: error: "gates\.1" must be one of setup, tests, lint, checklist, not the text "lintt"\.\n {4}hint: Did you mean "lint"\?/);
      return true;
    });
  });

  test('loadContract reads .owp.yml from a checkout, or gives the defaults without one', async () => {
    const dir = tempDir('owp-contract-');
    try {
      assert.deepEqual(await loadContract(dir), { contract: DEFAULT_CONTRACT, path: undefined });
      writeFileSync(join(dir, '.owp.yml'), 'test: make test\nsafe_lanes: [docs]\n');
      const loaded = await loadContract(dir);
      assert.equal(loaded.path, join(dir, '.owp.yml'));
      assert.deepEqual(loaded.contract.test, ['make test']);
      assert.deepEqual(loaded.contract.safe_lanes, ['docs']);
      writeFileSync(join(dir, '.owp.yml'), 'test: [make test\n');
      await assert.rejects(loadContract(dir), (error: unknown) => error instanceof FileProblemsError && error.file === join(dir, '.owp.yml'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('contract validation errors with positions', () => {
  const cases: Array<{ name: string; text: string; at: [number, number]; message: RegExp; hint?: RegExp; severity?: 'error' | 'warning' }> = [
    { name: 'YAML syntax (tab indentation)', text: 'pr:\n\tdraft: true\n', at: [2, 1], message: /[Tt]ab/, hint: /indent with spaces/ },
    { name: 'duplicate key', text: 'test: a\ntest: b\n', at: [2, 1], message: /[Uu]nique|[Dd]uplicate/, hint: /appear once/ },
    { name: 'unknown key, nested', text: 'test: t\npr:\n  titel: x\n', at: [3, 3], message: /Unknown key "titel" in "pr"/, hint: /Did you mean "title"\?/ },
    { name: 'wrong type', text: 'test: t\npr:\n  draft: sometimes\n', at: [3, 10], message: /"pr\.draft" must be true or false, not the text "sometimes"/ },
    { name: 'bad item in a command list', text: 'test: [npm test, 42]\n', at: [1, 18], message: /"test\.1" must be text, not number 42/ },
    { name: 'a mapping where commands go', text: 'test:\n  run: x\n', at: [2, 3], message: /"test" must be a command or a list of commands, not a mapping/, hint: /Write one command/ },
    { name: 'branch without {task_id}', text: 'test: t\nbranch: fix/{slug}\n', at: [2, 9], message: /"branch" is not valid/, hint: /Include \{task_id\}/ },
    { name: 'unknown placeholder', text: 'test: t\npr:\n  title: "{title} by {author}"\n', at: [3, 10], message: /Unknown placeholder \{author\} in "pr\.title"/, hint: /\{task_id\}, \{title\}, \{issue_number\}/ },
    { name: 'area name', text: 'test: t\nareas:\n  Docs: [docs/**]\n', at: [3, 3], message: /Unknown key "Docs" in "areas"/, hint: /lower-case/ },
    { name: 'absolute glob', text: 'test: t\nareas:\n  docs: [/docs/**]\n', at: [3, 10], message: /"areas\.docs\.0" is not valid/, hint: /relative to the repo root/ },
    { name: 'gate without its command', text: 'test: t\ngates: [tests, lint]\n', at: [2, 16], message: /gate "lint" is required but the contract has no lint command/, hint: /Add lint: <command>/, severity: 'warning' },
    { name: 'unknown placeholder in the branch', text: 'test: t\nbranch: owp/{task_id}-{login}\n', at: [2, 9], message: /Unknown placeholder \{login\} in "branch"/, hint: /\{task_id\}, \{slug\}, \{issue_number\}/ },
    { name: 'duplicate gate', text: 'test: t\ngates: [tests, tests]\n', at: [2, 8], message: /lists the same item twice/ },
    { name: 'safe lane without an area', text: 'test: t\nareas:\n  core: [src/**]\nsafe_lanes: [docs]\n', at: [4, 14], message: /safe lane "docs" has no area/, severity: 'warning' },
    { name: 'not a mapping at all', text: 'npm test\n', at: [1, 1], message: /^The file must be a mapping, not the text "npm test"\.$/ },
    { name: 'wrong version', text: 'version: 2\ntest: t\n', at: [1, 10], message: /"version" must be 1/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { diagnostics, contract } = checkContract(c.text);
      const d = only(diagnostics, c.severity ?? 'error');
      assert.deepEqual([d.start.line, d.start.column], c.at, formatDiagnostic('.owp.yml', d));
      assert.match(d.message, c.message);
      if (c.hint) assert.match(d.hint ?? '', c.hint);
      if ((c.severity ?? 'error') === 'error') assert.equal(contract, undefined);
      else assert.ok(contract, 'warnings do not stop the contract');
    });
  }

  test('every error of a file is reported at once, in order', () => {
    const { diagnostics } = checkContract('tst: a\nlint: [1]\npr:\n  draft: 3\ngates: [nope]\n');
    assert.deepEqual(diagnostics.map((d) => d.start.line).sort(), [1, 2, 4, 5]);
  });
});
