/**
 * The AI tool registry (client/ai-tools.ts) is the one description of each tool: the extension
 * and `owp worker` must hand a prompt to a terminal tool with the same, documented command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AI_TOOL_IDS, AI_TOOLS, isToolAvailable, terminalInvocation, terminalTools } from '../../client/ai-tools.ts';
import { planHandoff, TOOLS } from '../../cli/handoff.ts';
import { AI_TOOL_LABELS, AI_TOOL_SETTINGS, handoffPlan } from '../../extension/logic/ai-tool.ts';

const PROMPT = 'Fix the typo.\n"quoted" $(rm -rf ~) `x`';

test('each tool documents its command line: claude with the prompt (or -p headless), aider --message', () => {
  assert.deepEqual(terminalInvocation('claude-code', PROMPT, 'interactive'), { tool: 'claude-code', program: 'claude', args: [PROMPT] });
  assert.deepEqual(terminalInvocation('claude-code', PROMPT, 'headless'), { tool: 'claude-code', program: 'claude', args: ['-p', '--permission-mode', 'acceptEdits', PROMPT] });
  assert.deepEqual(terminalInvocation('aider', PROMPT, 'interactive'), { tool: 'aider', program: 'aider', args: ['--message', PROMPT] });
  assert.equal(terminalInvocation('copilot', PROMPT, 'interactive'), undefined);
  assert.deepEqual(terminalTools(), ['claude-code', 'aider']);
});

test('the extension and the CLI offer the registry\'s tools with its labels', () => {
  assert.deepEqual(AI_TOOL_SETTINGS, ['auto', ...AI_TOOL_IDS]);
  assert.deepEqual([...TOOLS], [...terminalTools(), 'none']);
  for (const id of AI_TOOL_IDS) assert.equal(AI_TOOL_LABELS[id], AI_TOOLS[id].label);
});

test('a terminal tool gets the same command line from the extension and from owp worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-tools-'));
  const savedPath = process.env.PATH;
  try {
    mkdirSync(join(dir, 'bin'));
    for (const id of terminalTools()) {
      const program = terminalInvocation(id, '', 'interactive')!.program;
      writeFileSync(join(dir, 'bin', program), '#!/bin/sh\n');
      chmodSync(join(dir, 'bin', program), 0o755);
    }
    process.env.PATH = join(dir, 'bin');
    for (const id of terminalTools()) {
      const editor = handoffPlan(id, PROMPT, new Set());
      const cli = planHandoff(id, PROMPT, true);
      assert.equal(editor.kind, 'terminal', id);
      if (editor.kind !== 'terminal') continue;
      assert.deepEqual(editor.terminal.shellArgs, cli.args, `${id}: same arguments in the editor's terminal and in owp worker`);
      assert.equal(cli.command, join(dir, 'bin', editor.terminal.shellPath), `${id}: same program`);
    }
  } finally {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('detection: editor commands, a binary on PATH, or always', () => {
  const none = { commands: new Set<string>(), binaryOnPath: () => false };
  assert.equal(isToolAvailable('clipboard', none), true);
  assert.equal(isToolAvailable('aider', none), false);
  assert.equal(isToolAvailable('aider', { ...none, binaryOnPath: (b) => b === 'aider' }), true);
  assert.equal(isToolAvailable('copilot', { ...none, commands: new Set(['workbench.action.chat.open']) }), true);
  assert.equal(isToolAvailable('cursor', { ...none, commands: new Set(['aichat.newchataction']) }), true);
});
