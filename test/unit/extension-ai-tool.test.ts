import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { binaryCandidates } from '../../client/ai-tools.ts';
import { chooseAiTool, handoffPlan, type ToolEnvironment } from '../../extension/logic/ai-tool.ts';

function env(commands: string[], binaries: string[] = [], appName = 'Visual Studio Code'): ToolEnvironment {
  return { commands: new Set(commands), appName, binaryOnPath: (b) => binaries.includes(b) };
}

describe('extension AI tool choice', () => {
  test('auto uses VS Code chat when it exists, Cursor inside Cursor, then terminal tools, then the clipboard', () => {
    assert.deepEqual(chooseAiTool('auto', env(['workbench.action.chat.open'], ['claude'])), { tool: 'copilot' });
    assert.deepEqual(chooseAiTool('auto', env(['workbench.action.chat.open', 'aichat.newchataction'], [], 'Cursor')), { tool: 'cursor' });
    assert.deepEqual(chooseAiTool('auto', env([], ['aider'])), { tool: 'aider' });
    assert.deepEqual(chooseAiTool('auto', env([], ['claude', 'aider'])), { tool: 'claude-code' });
    assert.deepEqual(chooseAiTool('auto', env([])), { tool: 'clipboard' });
  });

  test('an explicit tool is used when available, otherwise the fallback says what was missing', () => {
    assert.deepEqual(chooseAiTool('claude-code', env(['workbench.action.chat.open'], ['claude'])), { tool: 'claude-code' });
    assert.deepEqual(chooseAiTool('cursor', env(['workbench.action.chat.open'])), { tool: 'copilot', unavailable: 'cursor' });
    assert.deepEqual(chooseAiTool('aider', env([])), { tool: 'clipboard', unavailable: 'aider' });
    assert.deepEqual(chooseAiTool('clipboard', env(['workbench.action.chat.open'])), { tool: 'clipboard' });
  });

  test('the chat handoff puts the prompt into the chat input without sending it', () => {
    const plan = handoffPlan('copilot', 'PROMPT', new Set());
    assert.deepEqual(plan, { tool: 'copilot', kind: 'chat-input', command: 'workbench.action.chat.open', args: { query: 'PROMPT', isPartialQuery: true } });
  });

  test('Cursor uses the most specific chat command that exists; terminal tools get the prompt as one argument', () => {
    assert.deepEqual(handoffPlan('cursor', 'P', new Set(['aichat.newchataction', 'composer.newAgentChat'])), { tool: 'cursor', kind: 'chat-paste', command: 'composer.newAgentChat' });
    assert.deepEqual(handoffPlan('cursor', 'P', new Set()), { tool: 'clipboard', kind: 'clipboard' }, 'no Cursor command found: the clipboard');
    const prompt = 'line 1\n"quoted" $(rm -rf ~) `x`';
    assert.deepEqual(handoffPlan('claude-code', prompt, new Set(), { PATH: '/bin', GITHUB_TOKEN: 'x' }), { tool: 'claude-code', kind: 'terminal', terminal: { name: 'OWP: Claude Code', shellPath: 'claude', shellArgs: [prompt], env: { PATH: '/bin' }, strictEnv: true } });
    assert.deepEqual(handoffPlan('aider', prompt, new Set(), { PATH: '/bin', OPENAI_API_KEY: 'k' }), { tool: 'aider', kind: 'terminal', terminal: { name: 'OWP: Aider', shellPath: 'aider', shellArgs: ['--message', prompt], env: { PATH: '/bin', OPENAI_API_KEY: 'k' }, strictEnv: true } });
  });

  test('binary lookup candidates follow the platform PATH rules', () => {
    assert.deepEqual(binaryCandidates('claude', '/usr/bin:/opt/x/', 'linux'), ['/usr/bin/claude', '/opt/x/claude']);
    assert.deepEqual(binaryCandidates('aider', 'C:\\bin', 'win32', '.EXE;.CMD'), ['C:\\bin\\aider', 'C:\\bin\\aider.exe', 'C:\\bin\\aider.cmd']);
  });
});
