/**
 * Mounts lossyfs (test/lossyfs/lossyfs.c): a FUSE file system that keeps unsynced writes and
 * namespace changes in memory and drops them on a "power failure". Built on first use by
 * scripts/build-lossyfs.sh (which installs libfuse3-dev and fuse3 from Debian when missing).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LossyFsStats {
  writes: number;
  bytes_written: number;
  fsyncs: number;
  fdatasyncs: number;
  dir_fsyncs: number;
  power_failures: number;
  /** Power failures that found unsynced data or namespace changes: the kill landed inside a write. */
  power_failures_with_unsynced: number;
  unsynced_writes_dropped: number;
  unsynced_bytes_dropped: number;
  /** Unsynced writes a torn power failure let through (a prefix of each file's, in order). */
  unsynced_writes_torn_in: number;
  /** Unsynced writes a torn power failure cut mid-way (a torn journal line, a half-written temp file). */
  unsynced_writes_cut: number;
  namespace_changes_dropped: number;
  pending_unsynced_writes: number;
  pending_namespace_changes: number;
  /** Right now: each path with unsynced writes or a directory entry that is not durable yet. */
  pending: Array<{ path: string; writes: number; bytes: number; name_durable: boolean }>;
}

export interface LossyFs {
  mountpoint: string;
  /** Cuts the power now: an fsync in progress never completes, and every operation fails until powerFail(). */
  cutPower(): void;
  /** Drops every unsynced write and namespace change ('lose'), or lets a random prefix of each file's writes through first ('torn'), and turns the power back on. */
  powerFail(mode: 'lose' | 'torn', seed?: number): LossyFsStats;
  stats(): LossyFsStats;
  /** Makes every fsync take this long (a real disk's latency), widening the window a kill can land in. */
  setSyncDelay(microseconds: number): void;
  unmount(): Promise<void>;
}

export function buildLossyFs(): string {
  try {
    return execFileSync('bash', ['scripts/build-lossyfs.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1) as string;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`lossyfs could not be built, so the power-failure crash loops cannot run: ${e.stderr?.trim() || e.message}\nRun scripts/build-lossyfs.sh (it installs libfuse3-dev and fuse3; FUSE needs /dev/fuse).`);
  }
}

export async function mountLossyFs(): Promise<LossyFs> {
  const binary = buildLossyFs();
  const mountpoint = mkdtempSync(join(tmpdir(), 'owp-lossyfs-'));
  const control = join(mountpoint, '.lossyfs');
  const child: ChildProcess = spawn(binary, [mountpoint, '-f', '-s', '-o', 'auto_unmount,fsname=lossyfs'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lossyfs exited with ${child.exitCode} before mounting ${mountpoint}: ${stderr.trim()}`);
    if (readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mountpoint)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lossyfs did not mount ${mountpoint} within 10 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const stats = (): LossyFsStats => JSON.parse(readFileSync(control, 'utf8')) as LossyFsStats;
  return {
    mountpoint,
    stats,
    cutPower() {
      child.kill('SIGUSR1');
    },
    setSyncDelay(microseconds) {
      writeFileSync(control, `sync-delay-us ${Math.max(0, Math.floor(microseconds))}`);
    },
    powerFail(mode, seed = Math.floor(Math.random() * 2 ** 31)) {
      writeFileSync(control, mode === 'torn' ? `power-fail torn ${seed}` : 'power-fail');
      return stats();
    },
    async unmount() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // libfuse unmounts on SIGTERM
        await exited;
      }
      try {
        execFileSync('fusermount3', ['-uz', mountpoint], { stdio: 'ignore' });
      } catch {
        // already unmounted
      }
      rmSync(mountpoint, { recursive: true, force: true });
    },
  };
}
