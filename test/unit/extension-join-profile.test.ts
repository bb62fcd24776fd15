import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { coordinatorUrlProblem, githubLoginProblem, missingJoinFields, parseCapacity, parseSkills } from '../../extension/logic/join-profile.ts';

describe('extension join profile', () => {
  test('skills are parsed leniently and checked with the protocol pattern', () => {
    assert.deepEqual(parseSkills('docs, TS  tests;docs'), { skills: ['docs', 'ts', 'tests'] });
    assert.ok('problem' in parseSkills(''));
    assert.ok('problem' in parseSkills('docs, Ünïcode!'));
  });

  test('capacity is a whole number of effort points in the protocol range', () => {
    assert.deepEqual(parseCapacity(' 3 '), { capacity: 3 });
    for (const bad of ['0', '101', '2.5', 'many', '']) assert.ok('problem' in parseCapacity(bad), bad);
  });

  test('logins and coordinator URLs are checked before anything is sent', () => {
    assert.equal(githubLoginProblem('octo-cat'), undefined);
    assert.ok(githubLoginProblem('-bad'));
    assert.ok(githubLoginProblem(''));
    assert.equal(coordinatorUrlProblem('http://127.0.0.1:8787'), undefined);
    assert.ok(coordinatorUrlProblem('127.0.0.1:8787'));
    assert.ok(coordinatorUrlProblem('ftp://x'));
  });

  test('join asks only for what settings do not say; defaults not chosen explicitly are shown once', () => {
    const all = new Set(['coordinatorUrl', 'githubLogin', 'skills', 'capacity'] as const);
    const full = { coordinatorUrl: 'http://127.0.0.1:9000', githubLogin: 'alice', skills: ['docs'], capacity: 2 };
    assert.deepEqual(missingJoinFields(full, all), []);
    assert.deepEqual(missingJoinFields({ ...full, githubLogin: '' }, all), ['githubLogin']);
    assert.deepEqual(missingJoinFields({ coordinatorUrl: 'http://127.0.0.1:8787', githubLogin: '', skills: [], capacity: 3 }, new Set()), ['coordinatorUrl', 'githubLogin', 'skills', 'capacity']);
    assert.deepEqual(missingJoinFields({ ...full, skills: [] }, all), ['skills']);
  });
});
