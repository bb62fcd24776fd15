import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cloneUrl, remoteForRepo, webBaseUrl } from '../../extension/logic/git-remote.ts';
import { repoFromRemoteUrl } from '../../client/clone-repos.ts';

describe('extension git remotes', () => {
  test('reads owner/name from hosted and local remotes', () => {
    assert.equal(repoFromRemoteUrl('https://github.com/acme/site.git'), 'acme/site');
    assert.equal(repoFromRemoteUrl('git@github.com:acme/site.git'), 'acme/site');
    assert.equal(repoFromRemoteUrl('ssh://git@ghe.example:22/acme/site'), 'acme/site');
    assert.equal(repoFromRemoteUrl('/srv/git/acme/site.git'), 'acme/site');
    assert.equal(repoFromRemoteUrl('file:///tmp/remotes/acme/site.git/'), 'acme/site');
    assert.equal(repoFromRemoteUrl('site.git'), undefined);
  });

  test('finds the remote that points at the task repo, preferring origin, ignoring case', () => {
    const remotes = [
      { name: 'upstream', fetchUrl: 'https://github.com/Acme/Site.git' },
      { name: 'origin', fetchUrl: 'https://github.com/acme/site.git' },
      { name: 'fork', fetchUrl: 'https://github.com/alice/other.git' },
    ];
    assert.equal(remoteForRepo(remotes, 'acme/site'), 'origin');
    assert.equal(remoteForRepo([remotes[0]!], 'acme/site'), 'upstream');
    assert.equal(remoteForRepo(remotes, 'acme/other'), undefined);
  });

  test('maps API URLs to their web side for clones (github.com, GitHub Enterprise, local servers)', () => {
    assert.equal(webBaseUrl('https://api.github.com'), 'https://github.com');
    assert.equal(webBaseUrl('https://ghe.example/api/v3/'), 'https://ghe.example');
    assert.equal(webBaseUrl('http://127.0.0.1:4010'), 'http://127.0.0.1:4010');
    assert.equal(cloneUrl('https://api.github.com', 'acme/site'), 'https://github.com/acme/site.git');
  });
});
