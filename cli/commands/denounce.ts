/** `owp denounce @login --repo R --reason …`: see vouch.ts. */
import { standing } from './vouch.ts';

export function run(argv: string[]): Promise<number> {
  return standing('denounce', argv);
}
