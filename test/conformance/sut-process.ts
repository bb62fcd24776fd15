/** Starts an implementation under test as a separate process (node with these arguments) and reads the URL it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface SutProcess {
  url: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startSut(args: string[], timeoutMs = 30_000): Promise<SutProcess> {
  const token = `owp_conformance_${randomBytes(16).toString('hex')}`;
  const child = spawn(process.execPath, args, { env: { ...process.env, OWP_ADMIN_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // A test process that is killed (a file timeout) must not leave the implementation running.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')} printed no URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ url: match[1] as string, token, child, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before listening:\n${output}`));
    });
  });
}
