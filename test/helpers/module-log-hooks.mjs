// Module hooks for tests that ask which modules a process loaded: every URL the process resolves
// (static and dynamic imports alike) is appended to the file OWP_MODULE_LOG names. Registered with
// `node --import` (see loadedModules in test/integration/coordinator-start-modules.test.ts).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.OWP_MODULE_LOG) appendFileSync(process.env.OWP_MODULE_LOG, `${result.url}\n`);
  return result;
}
