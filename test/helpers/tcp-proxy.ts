/**
 * A loopback TCP proxy between workers and the coordinator whose link can fail the ways real links do:
 * - cut(): open connections are destroyed and new ones refused (a cable pulled: both ends see it);
 * - blackhole(): nothing is forwarded and nothing is closed, new connections hang (a laptop asleep,
 *   a congested or partitioned network); restore() delivers what was held, as TCP would;
 * - halfOpen(): the coordinator's end of each open connection is closed while the worker's end stays
 *   open and its bytes go nowhere (a laptop waking on a connection the NAT forgot); new connections work;
 * - delay(ms): every chunk is forwarded ms late, both ways, in order (a far or congested link).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  url: string;
  cut(): void;
  blackhole(): void;
  halfOpen(): void;
  /** Forwards every chunk `ms` late from now on (0: at once again). */
  delay(ms: number): void;
  restore(): void;
  /** Connections the proxy has accepted so far (a reconnect shows as a new one). */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** The coordinator's end is gone; the worker's end is left open and silent. */
  dead: boolean;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<Pair>();
  let mode: 'up' | 'cut' | 'blackhole' = 'up';
  let accepted = 0;
  let delayMs = 0;
  const waiting: Array<() => void> = [];
  // Timers of one delay fire in the order they were set, so each direction keeps its byte order.
  const later = (write: () => void): void => {
    if (delayMs > 0) setTimeout(write, delayMs);
    else write();
  };

  const link = (pair: Pair): void => {
    const { client } = pair;
    const upstream = connect(Number(target.port), target.hostname);
    pair.upstream = upstream;
    const drop = (): void => {
      if (pair.dead) return; // the worker's end of a half-open link stays as it is
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d: Buffer) => later(() => {
      if (!pair.dead && !upstream.destroyed) upstream.write(d);
    }));
    upstream.on('data', (d: Buffer) => later(() => {
      if (!client.destroyed) client.write(d);
    }));
    if (mode === 'blackhole') {
      client.pause();
      upstream.pause();
    }
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, dead: false };
    pairs.add(pair);
    client.on('error', () => undefined).on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    // A connection made during a blackhole hangs until the link comes back.
    if (mode === 'blackhole') {
      client.pause();
      waiting.push(() => link(pair));
    } else link(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cut = (): void => {
    mode = 'cut';
    waiting.length = 0;
    for (const p of pairs) {
      p.dead = false;
      p.client.destroy();
      p.upstream?.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    blackhole() {
      mode = 'blackhole';
      for (const p of pairs) {
        p.client.pause();
        p.upstream?.pause();
      }
    },
    delay(ms) {
      delayMs = ms;
    },
    halfOpen() {
      for (const p of pairs) {
        p.dead = true;
        p.upstream?.destroy();
      }
    },
    restore() {
      mode = 'up';
      for (const p of pairs) {
        if (p.dead) continue;
        p.client.resume();
        p.upstream?.resume();
      }
      for (const start of waiting.splice(0)) start();
      for (const p of pairs) p.client.resume();
    },
    accepted: () => accepted,
    close() {
      cut();
      for (const p of pairs) p.client.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
