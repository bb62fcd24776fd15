/**
 * Runs the GitHub-shaped server (cli/demo/github/) as its own process, with the test-control
 * routes (for e2e tests in a real editor):
 *
 *   node --import tsx test/helpers/fake-github/cli.ts --port 0 \
 *     --token ghp_x=alice --repo acme/site [--branches listed] [--html-base-url URL] \
 *     [--webhook-url URL --webhook-secret S]
 *
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once it listens; test-control
 * routes live under /_fake/ (see control.ts). Stops on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { startFakeGitHub } from '../../../cli/demo/github/server.ts';
import type { FakeTokenSeed } from '../../../cli/demo/github/model.ts';
import { handleControl } from './control.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string', multiple: true, default: [] },
    repo: { type: 'string', multiple: true, default: [] },
    branches: { type: 'string', default: 'any' },
    'html-base-url': { type: 'string' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
  },
  strict: true,
});

const tokens: FakeTokenSeed[] = (values.token ?? []).map((pair) => {
  const at = pair.indexOf('=');
  if (at <= 0) throw new Error(`--token takes TOKEN=login, got ${pair}`);
  return { token: pair.slice(0, at), login: pair.slice(at + 1) };
});
if (values.branches !== 'any' && values.branches !== 'listed') throw new Error('--branches is any or listed');

const fake = await startFakeGitHub({
  port: Number(values.port),
  host: values.host,
  tokens,
  repos: values.repo ?? [],
  branches: values.branches,
  control: handleControl,
  ...(values['html-base-url'] ? { htmlBaseUrl: values['html-base-url'] } : {}),
  ...(values['webhook-url'] && values['webhook-secret'] ? { webhook: { url: values['webhook-url'], secret: values['webhook-secret'] } } : {}),
});
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
