/**
 * scripts/ensure-chromium.sh and scripts/ensure-postgres.sh, which share scripts/lib/apt-install.sh:
 * each does nothing where its package is there, and on a fresh machine installs it with apt-get, as
 * root or through sudo without a password, or stops with what to do. The fresh-machine path runs
 * against stand-ins for apt-get, sudo and id on a PATH of their own (nothing is installed), the
 * way CI's fresh clone meets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/owp-cli.ts';
import { tempDir } from '../helpers/coordinator.ts';

function run(script: string, env: NodeJS.ProcessEnv): { code: number | null; stderr: string } {
  const result = spawnSync('/bin/bash', [join(ROOT, 'scripts', script)], { env, encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr };
}

const onPath = (name: string): boolean => spawnSync('/bin/sh', ['-c', `command -v ${name}`]).status === 0;

test('each script does nothing where its package is already installed', (t) => {
  if (!onPath('chromium') && !onPath('chromium-browser')) t.skip('chromium is not installed here');
  else assert.deepEqual(run('ensure-chromium.sh', process.env), { code: 0, stderr: '' });
  if (!existsSync('/usr/lib/postgresql')) t.skip('postgresql is not installed here');
  else assert.deepEqual(run('ensure-postgres.sh', process.env), { code: 0, stderr: '' });
});

/** A PATH holding only stand-ins: apt-get (logs, and "installs" chromium by creating it), id, sudo, and the few tools the scripts use. */
function freshMachine(options: { uid?: number; sudo?: 'works' | 'password' | 'none'; installFails?: boolean } = {}): { bin: string; log: string; env: NodeJS.ProcessEnv; close(): void } {
  const dir = tempDir('owp-fresh-');
  const bin = join(dir, 'bin');
  const log = join(dir, 'log');
  spawnSync('/bin/mkdir', [bin]);
  writeFileSync(log, '');
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('apt-get', `echo "apt-get $*" >> "$STUB_LOG"\ncase " $* " in *" install "*) ${options.installFails ? 'exit 100' : `printf '#!/bin/sh\\n' > "${bin}/chromium"; /bin/chmod +x "${bin}/chromium"`};; esac`);
  stub('id', `echo ${options.uid ?? 1000}`);
  if (options.sudo !== 'none') {
    stub('sudo', options.sudo === 'password'
      ? 'exit 1'
      : `echo "sudo $*" >> "$STUB_LOG"\n[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec "$@"`);
  }
  for (const tool of ['env', 'dirname']) symlinkSync(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
  return { bin, log, env: { PATH: bin, STUB_LOG: log }, close: () => rmSync(dir, { recursive: true, force: true }) };
}

test('on a fresh machine ensure-chromium installs chromium through sudo without a password, waiting for the dpkg lock', () => {
  const m = freshMachine();
  try {
    const { code, stderr } = run('ensure-chromium.sh', m.env);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /installing Debian's chromium/);
    assert.deepEqual(readFileSync(m.log, 'utf8').trim().split('\n'), [
      'sudo -n true',
      'sudo -n apt-get -o DPkg::Lock::Timeout=900 update -qq',
      'apt-get -o DPkg::Lock::Timeout=900 update -qq',
      'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium',
      'apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium',
    ]);
  } finally {
    m.close();
  }
});

test('as root it installs without sudo', () => {
  const m = freshMachine({ uid: 0, sudo: 'none' });
  try {
    const { code, stderr } = run('ensure-chromium.sh', m.env);
    assert.equal(code, 0, stderr);
    assert.deepEqual(readFileSync(m.log, 'utf8').trim().split('\n'), [
      'apt-get -o DPkg::Lock::Timeout=900 update -qq',
      'apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends chromium',
    ]);
  } finally {
    m.close();
  }
});

test('without root or a password-less sudo, or when apt-get fails, each script stops and says what to do', () => {
  for (const [script, what] of [['ensure-chromium.sh', 'chromium'], ['ensure-postgres.sh', 'postgresql']] as const) {
    // PostgreSQL already installed here is found before any of this: the lib is reached only without it.
    if (script === 'ensure-postgres.sh' && existsSync('/usr/lib/postgresql')) continue;
    const locked = freshMachine({ sudo: 'password' });
    try {
      const { code, stderr } = run(script, locked.env);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /installing it needs root, and sudo is not available without a password here/);
      assert.match(stderr, new RegExp(`sudo apt-get install ${what}`));
      assert.equal(readFileSync(locked.log, 'utf8'), '', 'nothing was run');
    } finally {
      locked.close();
    }
  }
  const failing = freshMachine({ installFails: true });
  try {
    const { code, stderr } = run('ensure-chromium.sh', failing.env);
    assert.equal(code, 1);
    assert.match(stderr, /apt-get install chromium failed/);
  } finally {
    failing.close();
  }
});
