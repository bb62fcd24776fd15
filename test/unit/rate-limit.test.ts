/** Token buckets, their eviction, and finding the client behind trusted proxies (X-Forwarded-For). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedBuckets, TokenBucket, TrustedProxies } from '../../coordinator/rate-limit.ts';
import { loadConfigFile } from '../../coordinator/config.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/coordinator.ts';

test('a bucket allows its burst, then refills at its rate; 0 per second is no limit', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 2, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [0, 0, 0]);
  assert.equal(bucket.take(), 500, 'the next token in 500 ms at 2/s');
  now = 499;
  assert.ok(bucket.take() > 0);
  now = 500;
  assert.equal(bucket.take(), 0);
  now = 100_000;
  assert.ok(bucket.isFull());
  const off = new TokenBucket(1, 0, () => now);
  assert.deepEqual([off.take(), off.take(), off.take()], [0, 0, 0]);
});

test('keyed buckets forget only clients whose bucket is full again (a sliding window, not a reset)', () => {
  let now = 0;
  const buckets = new KeyedBuckets({ per_second: 1, burst: 2 }, () => now, 1_000_000);
  try {
    assert.deepEqual([buckets.take('a'), buckets.take('a')], [0, 0]);
    assert.ok(buckets.take('a') > 0);
    buckets.take('b');
    now = 1500; // a has 1.5 tokens, b is full again
    buckets.sweep();
    assert.equal(buckets.size, 1, 'b is forgotten, a is kept');
    assert.equal(buckets.take('a'), 0);
    assert.ok(buckets.take('a') > 0, 'a still remembers its earlier requests');
  } finally {
    buckets.close();
  }
});

test('the client is the peer unless the peer is a trusted proxy; then the nearest untrusted forwarded address', () => {
  const none = new TrustedProxies([]);
  assert.equal(none.clientAddress('127.0.0.1', '203.0.113.9'), '127.0.0.1', 'no trusted proxy: the header is ignored');

  const proxies = new TrustedProxies(['10.0.0.0/8', '::1', '192.0.2.1']);
  assert.equal(proxies.clientAddress('::ffff:10.1.2.3', '198.51.100.7'), '198.51.100.7', 'an IPv4-mapped peer in a trusted range');
  assert.equal(proxies.clientAddress('203.0.113.5', '198.51.100.7'), '203.0.113.5', 'an untrusted peer cannot name a client');
  assert.equal(proxies.clientAddress('10.0.0.1', 'spoofed, 198.51.100.7'), '198.51.100.7', 'entries left of the real client are ignored');
  assert.equal(proxies.clientAddress('10.0.0.1', '198.51.100.7, 10.0.0.2, 192.0.2.1'), '198.51.100.7', 'a chain of trusted proxies is skipped');
  assert.equal(proxies.clientAddress('10.0.0.1', ['198.51.100.7', '10.0.0.9']), '198.51.100.7', 'repeated headers are one list');
  assert.equal(proxies.clientAddress('10.0.0.1', 'garbage'), '10.0.0.1', 'a chain that does not parse ends at the proxy');
  assert.equal(proxies.clientAddress('10.0.0.1', undefined), '10.0.0.1');
  assert.equal(proxies.clientAddress('::1', '2001:db8::7'), '2001:db8::7');

  const loopback = new TrustedProxies(['loopback']);
  assert.ok(loopback.trusts('127.0.0.1') && loopback.trusts('127.8.9.10') && loopback.trusts('::1'));
  assert.ok(!loopback.trusts('10.0.0.1'));
  for (const bad of ['example.com', '10.0.0.0/33', '1.2.3.4/8/1', '']) assert.throws(() => new TrustedProxies([bad]), /trust_proxy/);
});

test('the config file sets rate limits, trusted proxies, log and metrics, and refuses bad values clearly', () => {
  const dir = tempDir();
  const file = join(dir, 'owp.yaml');
  writeFileSync(file, 'trust_proxy: [loopback, 10.0.0.0/8]\nrate_limits:\n  socket: { per_second: 3000 }\n  register: { burst: 3 }\nlog: { level: debug, format: json }\nmetrics: { public: true }\n');
  const config = loadConfigFile(file);
  assert.deepEqual(config.trust_proxy, ['loopback', '10.0.0.0/8']);
  assert.deepEqual(config.rate_limits, {
    http: { per_second: 5000, burst: 10_000 },
    socket: { per_second: 3000, burst: 10_000 },
    register: { per_second: 0.1, burst: 3 },
    register_total: { per_second: 2, burst: 1000 },
  });
  assert.deepEqual(config.log, { level: 'debug', format: 'json' });
  assert.deepEqual(config.metrics, { public: true });
  const refused: Array<[string, RegExp]> = [
    ['trust_proxy: [proxy.local]\n', /trust_proxy: "proxy\.local" is not an IP address/],
    ['rate_limits: { http: { per_second: -1 } }\n', /rate_limits\.http\.per_second must be a non-negative number/],
    ['rate_limits: { tcp: {} }\n', /Unknown setting\(s\) in rate_limits: tcp/],
    ['log: { level: loud }\n', /log\.level must be one of/],
    ['metrics: { token_env: A, token_file: B }\n', /token_env or token_file, not both/],
  ];
  for (const [text, error] of refused) {
    writeFileSync(file, text);
    assert.throws(() => loadConfigFile(file), error, text);
  }
});
