import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsFromBody, fieldsFromLabels, issueFields } from '../../coordinator/github/issue-fields.ts';

describe('issue fields from labels and the owp block', () => {
  test('labels set area, tier, effort, skills and priority', () => {
    const { fields, warnings } = fieldsFromLabels(['owp', 'bug', 'owp:area=Docs', 'owp:tier=2', 'owp:effort=5', 'owp:skill=ts', 'owp:skill=docs', 'owp:skills=rust,ts', 'owp:priority=-3']);
    assert.deepEqual(fields, { area: 'docs', tier: 2, effort: 5, skills: ['ts', 'docs', 'rust'], priority: -3 });
    assert.deepEqual(warnings, []);
  });

  test('values outside the protocol\'s ranges are dropped with a warning', () => {
    const { fields, warnings } = fieldsFromLabels(['owp:tier=7', 'owp:effort=0', 'owp:area=../etc', 'owp:skill=C Sharp', 'owp:priority=1000']);
    assert.deepEqual(fields, {});
    assert.equal(warnings.length, 5);
  });

  test('the fenced owp block is YAML', () => {
    const body = 'Intro text.\n\n```owp\narea: tests\ntier: 1\neffort: 2\nskills: [ts, testing]\npriority: 4\nacceptance:\n  - one\n  - two\n```\n\nMore text.';
    assert.deepEqual(fieldsFromBody(body).fields, { area: 'tests', tier: 1, effort: 2, skills: ['ts', 'testing'], priority: 4, acceptance: ['one', 'two'] });
    assert.deepEqual(fieldsFromBody('```owp\nskills: docs, ts\n```').fields, { skills: ['docs', 'ts'] });
  });

  test('bad blocks are reported, not guessed', () => {
    assert.match(fieldsFromBody('```owp\ntier: [\n```').warnings[0] ?? '', /not valid YAML/);
    assert.match(fieldsFromBody('```owp\n- a list\n```').warnings[0] ?? '', /must be a mapping/);
    assert.match(fieldsFromBody('```owp\ncolour: blue\n```').warnings[0] ?? '', /unknown key "colour"/);
    assert.deepEqual(fieldsFromBody('no block here').fields, {});
    assert.deepEqual(fieldsFromBody(null).fields, {});
    assert.deepEqual(fieldsFromBody('```yaml\ntier: 1\n```').fields, {}, 'only ```owp blocks count');
  });

  test('labels win over the block, and the block is read only when asked', () => {
    const body = '```owp\ntier: 0\narea: core\n```';
    assert.deepEqual(issueFields(['owp:tier=2'], body, true).fields, { tier: 2, area: 'core' });
    assert.deepEqual(issueFields(['owp:tier=2'], body, false).fields, { tier: 2 });
  });
});
