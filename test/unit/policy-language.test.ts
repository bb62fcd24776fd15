/**
 * Every policy rule in the editor: the language server completes the key that sets it and its
 * mode, and hovering either says which rule it is and what it does (from the schema's one text
 * per rule, POLICY_RULES).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { complete, hover } from '../../lsp/features.ts';
import { POLICY_RULES, type PolicyRuleId } from '../../protocol/policy-schema.ts';

/** Where each rule is set in .owp/policy.yml: the YAML up to the rule's key, and the key. */
const WHERE: Record<PolicyRuleId, { before: string; key: string }> = {
  denounced: { before: 'modes:\n  ', key: 'denounced' },
  vouch_required: { before: '', key: 'vouch' },
  login_deny: { before: 'logins:\n  ', key: 'deny' },
  login_allow: { before: 'logins:\n  ', key: 'allow' },
  safe_lanes: { before: '', key: 'safe_lanes' },
  tier_trust: { before: '', key: 'tiers' },
  max_active_per_worker: { before: '', key: 'max_active_per_worker' },
  contributor_cap: { before: '', key: 'contributor_cap' },
  signed_commits: { before: '', key: 'signed_commits' },
  pr_lane: { before: '', key: 'pr_lane' },
  area_max_active: { before: 'areas:\n  core:\n    ', key: 'max_active' },
  area_trust: { before: 'areas:\n  core:\n    ', key: 'min_trust' },
  risky_area: { before: 'areas:\n  core:\n    ', key: 'risky' },
  max_open_prs: { before: 'budget:\n  ', key: 'max_open_prs' },
  max_new_prs_per_hour: { before: 'budget:\n  ', key: 'max_new_prs_per_hour' },
};

const doc = (text: string): TextDocument => TextDocument.create('file:///work/repo/.owp/policy.yml', 'owp-policy', 1, text);

test('every rule\'s key is completed where it belongs, and hovering it names the rule', () => {
  assert.deepEqual(Object.keys(WHERE).sort(), Object.keys(POLICY_RULES).sort(), 'a new rule needs its place here');
  for (const [rule, { before, key }] of Object.entries(WHERE) as Array<[PolicyRuleId, { before: string; key: string }]>) {
    const offered = complete(doc(before), before.length).map((i) => i.label);
    assert.ok(offered.includes(key), `${rule}: ${key} is not offered after ${JSON.stringify(before)} (offered: ${offered.join(', ')})`);
    const text = `${before}${key}: x\n`;
    const shown = hover(doc(text), before.length + 1) ?? '';
    assert.match(shown, new RegExp(`Rule ${rule}\\b`), `${rule}: hover on ${key}`);
  }
});

test('modes completes every rule id and its two modes, and hovering a rule there says what it does', () => {
  const offered = complete(doc('modes:\n  '), 'modes:\n  '.length).map((i) => i.label);
  assert.deepEqual([...offered].sort(), Object.keys(POLICY_RULES).sort());
  const text = 'modes:\n  contributor_cap: \n';
  assert.deepEqual(complete(doc(text), text.length - 1).map((i) => i.label), ['enforce', 'report']);
  for (const rule of Object.keys(POLICY_RULES) as PolicyRuleId[]) {
    const shown = hover(doc(`modes:\n  ${rule}: report\n`), 'modes:\n  '.length + 1) ?? '';
    assert.ok(shown.includes(`Rule ${rule}: ${POLICY_RULES[rule]}`), `${rule}: hover under modes says ${JSON.stringify(shown.slice(0, 120))}`);
  }
});
