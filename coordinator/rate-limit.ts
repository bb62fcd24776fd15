/**
 * Rate limits: a token bucket per socket connection and per HTTP client, so a flooding client is
 * refused without slowing anyone else. A bucket holds `burst` tokens and refills continuously at
 * `per_second`; a request takes one or is refused with the wait until the next one.
 *
 * Behind a TLS proxy every request comes from the proxy's address, so the HTTP client is found in
 * X-Forwarded-For, but only when the peer is a proxy the operator trusts (`trust_proxy`):
 * anyone else could write any address there and get a fresh bucket per request.
 */
import { BlockList, isIP } from 'node:net';

export interface RateLimit {
  /** Sustained requests per second; 0 turns the limit off. */
  per_second: number;
  /** Requests allowed at once above the sustained rate. */
  burst: number;
}

export interface RateLimits {
  /** Per HTTP client (its address, or the forwarded one behind a trusted proxy). */
  http: RateLimit;
  /** Per socket.io connection. */
  socket: RateLimit;
  /** worker.register per client address (an IPv6 client by its /64), on both bindings together. */
  register: RateLimit;
  /** worker.register from everyone together: what a flood from many addresses can add to the journal. */
  register_total: RateLimit;
}

/**
 * Sized so that the busiest legitimate client is never throttled: in the lifecycle benchmark (issue
 * 20: a maintainer creating and merging, two workers taking offers at machine speed) one worker's
 * socket makes two calls per task (accept, report) and the maintainer one merge per task, so matching
 * graphile-worker's ~2,700 tasks/s needs about 2,700 calls/s on each connection, and a bulk import
 * (task.create_many) is a few requests a second. 5,000/s sustained with bursts of 10,000 leaves
 * room; a flood (tens of thousands of requests a second from one client) is still refused at once,
 * before any work. `npm run bench` reports how many lifecycle calls were throttled (0 expected).
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  http: { per_second: 5000, burst: 10_000 },
  socket: { per_second: 5000, burst: 10_000 },
  // Registration is open to anyone and every worker is journaled for good. A volunteer registers once
  // per clone or window, but an organisation's agents, a classroom behind one NAT or a conformance run
  // register many from one address: 200 at once and one every ten seconds after that per address; the pool as
  // a whole takes a burst of 1,000 and two a second (≈ 30 MB of journal an hour at the 4 KB x_* limit,
  // however many addresses a flood comes from). Lower them, or close registration and hand out
  // invites, for a pool that does not need open registration.
  register: { per_second: 0.1, burst: 200 },
  register_total: { per_second: 2, burst: 1000 },
};

/** The default clock of every bucket: one function, not a closure per bucket (one bucket per connection). */
const monotonicNow = (): number => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(): number {
    if (this.refillPerSecond <= 0) return 0;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000);
  }

  /** Full again: the bucket is indistinguishable from a new one and can be forgotten. */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
  }
}

/** One bucket per key (an HTTP client). Buckets that have refilled completely are dropped, which changes nothing. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly limit: RateLimit, private readonly now: () => number = () => performance.now(), sweepEveryMs = 30_000) {
    this.timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.timer.unref();
  }

  take(key: string): number {
    if (this.limit.per_second <= 0) return 0;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.limit.burst, this.limit.per_second, this.now)));
    return bucket.take();
  }

  /** Forgets full buckets (a client idle for burst / per_second seconds). */
  sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? (mapped[1] as string) : trimmed;
}

/**
 * The proxies whose X-Forwarded-For is believed: addresses and CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`), or `loopback` (127.0.0.0/8 and ::1). Empty: no proxy is trusted, the peer is the client.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix, extra] = entry.trim().split('/');
      if (entry.trim() === 'loopback') {
        this.list.addSubnet('127.0.0.0', 8, 'ipv4');
        this.list.addAddress('::1', 'ipv6');
        continue;
      }
      const family = isIP(address ?? '');
      const bits = prefix === undefined ? undefined : Number(prefix);
      if (!address || family === 0 || extra !== undefined || (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)))) {
        throw new Error(`trust_proxy: "${entry}" is not an IP address, a CIDR range (10.0.0.0/8) or "loopback".`);
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, bits, type);
    }
    this.empty = entries.length === 0;
  }

  trusts(address: string): boolean {
    const a = normalizeAddress(address);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client behind the peer: the peer itself unless it is a trusted proxy; then the nearest
   * address in X-Forwarded-For (read from the right, as each proxy appends the address it saw)
   * that is not a trusted proxy. Entries left of that one were written by the client and are ignored.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const self = normalizeAddress(peer ?? '?');
    if (this.empty || !this.trusts(self) || forwardedFor === undefined) return self;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map(normalizeAddress).filter(Boolean);
    let client = self;
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = hops[i] as string;
      // A trusted proxy always writes a valid address; anything else means the chain ends here.
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

/** The key a client's registrations are counted under: its address, an IPv6 address by its /64 (one customer's usual allocation). */
export function registrationKey(address: string): string {
  const a = normalizeAddress(address);
  if (isIP(a) !== 6) return a;
  const [head, tail = ''] = a.split('::');
  const left = (head ?? '').split(':').filter(Boolean);
  const right = tail.split(':').filter(Boolean);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * worker.register's own limits, shared by both bindings: per client address and for the whole
 * pool. A refusal says how long to wait; nothing is written.
 */
export class RegistrationLimiter {
  private readonly perClient: KeyedBuckets;
  private readonly total: TokenBucket | undefined;

  constructor(perClient: RateLimit, total: RateLimit, now: () => number = () => performance.now()) {
    this.perClient = new KeyedBuckets(perClient, now);
    this.total = total.per_second > 0 ? new TokenBucket(total.burst, total.per_second, now) : undefined;
  }

  /** 0 when this client may register now, else the milliseconds to wait. */
  take(clientAddress: string): number {
    const wait = this.perClient.take(registrationKey(clientAddress));
    if (wait > 0) return wait;
    return this.total?.take() ?? 0;
  }

  close(): void {
    this.perClient.close();
  }
}
