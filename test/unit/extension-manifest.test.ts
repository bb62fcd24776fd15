import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { COMMANDS, CONTEXT_KEYS, SETTINGS, TREE_ITEM_KINDS, VIEWS, VIEW_CONTAINER, WALKTHROUGH } from '../../extension/constants.ts';
import { walkthroughStepId } from '../../extension/logic/walkthrough.ts';
import { AI_TOOL_SETTINGS } from '../../extension/logic/ai-tool.ts';
import { PUSH_MODES } from '../../client/fork.ts';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const contributes = manifest.contributes;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('extension manifest', () => {
  test('every command id in the constants module is contributed, and every menu entry names a contributed command', () => {
    const declared = new Set(contributes.commands.map((c: { command: string }) => c.command));
    for (const id of Object.values(COMMANDS)) assert.ok(declared.has(id), `${id} is not in contributes.commands`);
    for (const id of declared) assert.ok((Object.values(COMMANDS) as string[]).includes(id as string), `${String(id)} has no constant`);
    for (const entries of Object.values(contributes.menus) as Array<Array<{ command: string }>>) {
      for (const entry of entries) assert.ok(declared.has(entry.command), `menu names unknown command ${entry.command}`);
    }
  });

  test('views live in the OWP activity-bar container with the labels people and the e2e tests click', () => {
    const container = contributes.viewsContainers.activitybar[0];
    assert.equal(container.id, VIEW_CONTAINER);
    const views = contributes.views[VIEW_CONTAINER] as Array<{ id: string; name: string }>;
    assert.deepEqual(views.map((v) => [v.id, v.name]), [
      [VIEWS.offers, 'Offers & tasks'],
      [VIEWS.work, 'My work'],
    ]);
    const welcome = contributes.viewsWelcome.find((w: { view: string; when: string }) => w.view === VIEWS.offers && w.when === '!owp.joined');
    assert.match(welcome.contents, /\[Join pool\]\(command:owp\.joinPool\)/);
  });

  test('item menus match the tree items\' contextValues', () => {
    const kinds = new Set(Object.values(TREE_ITEM_KINDS));
    for (const entry of contributes.menus['view/item/context'] as Array<{ when: string }>) {
      const exact = /viewItem == (\w+)/.exec(entry.when);
      if (exact) assert.ok(kinds.has(exact[1] as never), `unknown viewItem ${exact[1]}`);
    }
  });

  test('settings match the constants and the AI tool choices', () => {
    const properties = contributes.configuration.properties;
    for (const key of Object.values(SETTINGS)) assert.ok(properties[`owp.${key}`], `owp.${key} is not contributed`);
    assert.deepEqual(properties['owp.aiTool'].enum, [...AI_TOOL_SETTINGS]);
    assert.deepEqual(properties['owp.pushTarget'].enum, [...PUSH_MODES]);
    assert.equal(properties['owp.pushTarget'].default, 'auto');
    assert.equal(properties['owp.coordinatorUrl'].default, 'http://127.0.0.1:8787');
    assert.equal(properties['owp.githubApiUrl'].default, 'https://api.github.com');
  });

  test('activation is lazy, restricted mode is declared, and Open VSX finds what it needs', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(manifest.activationEvents.includes(`onView:${VIEWS.offers}`));
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const field of ['publisher', 'repository', 'license', 'icon', 'engines']) assert.ok(manifest[field], field);
    assert.match(manifest.engines.vscode, /^\^1\.96\./);
    assert.equal(manifest.main, './dist/extension.cjs');
    const typesVersion = JSON.parse(readFileSync('node_modules/@types/vscode/package.json', 'utf8')).version as string;
    assert.ok(Number(typesVersion.split('.')[1]) <= 96, `@types/vscode ${typesVersion} is newer than engines.vscode`);
  });

  test('.vscodeignore ships only the bundles, our media, the manifest, README and LICENSE', () => {
    const rules = readFileSync('.vscodeignore', 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(rules[0], '**');
    for (const rule of rules.slice(1)) assert.match(rule, /^(!(dist\/|media\/|package\.json$|README\.md$|LICENSE$)|\*\*\/\*\.map$)/, rule);
  });

  test('the package has its own readme and a walkthrough whose pages ship', () => {
    assert.match(manifest.scripts.package, /--readme-path extension\/README\.md\b/);
    const readme = readFileSync('extension/README.md', 'utf8');
    // Its images exist (paths relative to extension/, as on GitHub and with the package's base URLs).
    for (const [, image] of readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) assert.ok(existsSync(join('extension', image as string)), `extension/README.md shows ${image}, which is missing`);
    const wanted = readFileSync('.vscodeignore', 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const [walkthrough] = manifest.contributes.walkthroughs as Array<{ steps: Array<{ id: string; media: { markdown?: string }; completionEvents: string[] }> }>;
    assert.ok(walkthrough && walkthrough.steps.length >= 4);
    for (const step of walkthrough.steps) {
      const page = step.media.markdown as string;
      assert.ok(existsSync(page), `${step.id}: ${page} is missing`);
      assert.ok(wanted.some((pattern) => picomatch(pattern, { dot: true })(page)), `${step.id}: .vscodeignore leaves ${page} out of the package`);
      assert.ok(step.completionEvents.length > 0, `${step.id} can be completed`);
    }
  });

  test('the walkthrough completes on what the extension does: its commands, the context keys it sets, its views, and the steps it marks itself', () => {
    const [walkthrough] = manifest.contributes.walkthroughs as Array<{ id: string; steps: Array<{ id: string; completionEvents: string[] }> }>;
    assert.equal(walkthrough?.id, WALKTHROUGH.id);
    const commands = new Set((manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command));
    const views = new Set(Object.values(VIEWS) as string[]);
    // The keys the extension really sets: each setContext call in its sources names one of CONTEXT_KEYS.
    const sources = files('extension').filter((f) => f.endsWith('.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const set = new Set<string>([...sources.matchAll(/EXTERNAL_COMMANDS\.setContext,\s*CONTEXT_KEYS\.(\w+)/g)].map((m) => CONTEXT_KEYS[m[1] as keyof typeof CONTEXT_KEYS]));
    assert.ok(set.size > 0, 'the extension sets a context key');
    for (const step of walkthrough.steps) {
      for (const event of step.completionEvents) {
        const [kind, arg] = [event.slice(0, event.indexOf(':')), event.slice(event.indexOf(':') + 1)];
        if (kind === 'onCommand') assert.ok(commands.has(arg), `${step.id}: ${event} names no contributed command`);
        else if (kind === 'onContext') assert.ok(set.has(arg), `${step.id}: ${event} is a context key the extension never sets (it sets ${[...set].join(', ')})`);
        else if (kind === 'onView') assert.ok(views.has(arg), `${step.id}: ${event} names no view of ours`);
        else assert.fail(`${step.id}: ${event} is not a completion event the extension can cause`);
      }
    }
    // The steps ticked from the session's state (extension/walkthrough-progress.ts) are steps of this walkthrough.
    const ids = new Set(walkthrough.steps.map((s) => s.id));
    for (const step of Object.values(WALKTHROUGH.steps)) assert.ok(ids.has(step), `the extension marks step ${step}, which the walkthrough does not have`);
    assert.equal(walkthroughStepId(`${manifest.publisher}.${manifest.name}`, 'join'), `${manifest.publisher}.${manifest.name}#${walkthrough.id}#join`);
  });

  test('every file .vscodeignore lets back in exists: in the source tree, or as an output of esbuild.mjs', () => {
    // The outputs esbuild.mjs names (the dashboard's CSS is the sibling esbuild writes for its CSS imports).
    const bundler = readFileSync('esbuild.mjs', 'utf8');
    const outputs = [...bundler.matchAll(/outfile: '([^']+)'/g)].flatMap((m) => {
      const out = m[1] as string;
      return out.endsWith('.js') ? [out, out.replace(/\.js$/, '.css')] : [out];
    });
    const shipped = [...outputs, ...files('media'), 'package.json', 'README.md', 'LICENSE'].map((f) => f.split('\\').join('/'));
    const wanted = readFileSync('.vscodeignore', 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    for (const pattern of wanted) {
      assert.ok(shipped.some((file) => picomatch(pattern, { dot: true })(file)), `.vscodeignore's !${pattern} matches no file the package could ship`);
    }
    for (const needed of [manifest.main.replace(/^\.\//, ''), manifest.icon, 'dist/lsp-server.cjs', 'dist/media/dashboard.js', 'dist/media/dashboard.css', 'media/owp-activity.svg']) {
      assert.ok(wanted.some((pattern) => picomatch(pattern, { dot: true })(needed)), `${needed} is needed at run time but .vscodeignore leaves it out`);
    }
  });

  test('esbuild.mjs fails loudly when a bundle\'s entry is missing, instead of leaving the bundle out', () => {
    // Run from an empty folder: every entry path is relative, so every entry is missing there.
    const empty = mkdtempSync(join(tmpdir(), 'owp-esbuild-'));
    try {
      const run = spawnSync(process.execPath, [join(process.cwd(), 'esbuild.mjs')], { cwd: empty, encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /missing entry points cli\/main\.ts, extension\/extension\.ts/);
      assert.deepEqual(readdirSync(empty), [], 'nothing was written');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
