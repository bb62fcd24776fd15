/** The machine's own limits, measured in the same run: fsync of a small write, and a loopback round trip. */
import { connect } from 'node:net';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Child } from './children.ts';
import { median } from './stats.ts';

/** Median time of write(4 KiB) + fdatasync on the filesystem that holds `dir`, like one journal group commit. */
export async function fsyncMedianMs(dir: string, rounds: number): Promise<number | null> {
  const path = join(dir, 'fsync-probe');
  const handle = await open(path, 'a');
  const block = Buffer.alloc(4096, 0x61);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i += 1) {
      const t0 = performance.now();
      await handle.write(block);
      await handle.datasync();
      times.push(performance.now() - t0);
    }
  } finally {
    await handle.close();
    await rm(path, { force: true });
  }
  return median(times);
}

/** Median round trip of a 64-byte message to an echo server in another process over 127.0.0.1. */
export async function loopbackRttMedianMs(echoScript: string, rounds: number): Promise<number | null> {
  const echo = new Child('echo-server', echoScript);
  try {
    const { port } = (await echo.next('ready', 30_000)) as { port: number };
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const payload = Buffer.alloc(64, 0x62);
    const times: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        let got = 0;
        const onData = (chunk: Buffer): void => {
          got += chunk.length;
          if (got >= payload.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
        socket.write(payload);
      });
      times.push(performance.now() - t0);
    }
    socket.destroy();
    return median(times);
  } finally {
    echo.kill();
  }
}
