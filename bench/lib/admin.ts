/** The runner's maintainer side: configures repos and creates tasks over HTTP, waiting out rate limits. */
import { HttpClient } from '../../client/http-client.ts';
import type { OperationName, Params } from '../../protocol/operations.ts';
import { sleep } from './stats.ts';

export class BenchAdmin {
  readonly http: HttpClient;

  constructor(url: string, token: string) {
    this.http = new HttpClient({ baseUrl: url, token, timeoutMs: 60_000 });
  }

  /** Calls an operation; a RATE_LIMITED answer is retried after the delay it names. */
  async call<T = Record<string, unknown>>(name: OperationName, params: Record<string, unknown>): Promise<T> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const ack = await this.http.callRaw(name, params);
      if (ack.ok) return ack.data as T;
      if (ack.error.code !== 'RATE_LIMITED') throw new Error(`${name}: ${ack.error.code} ${ack.error.message}`);
      await sleep(Number(ack.error.details?.retry_after_ms ?? 50));
    }
    throw new Error(`${name}: still rate limited after 200 tries`);
  }

  configureRepo(repo: string, settings: Partial<Params<'repo.configure'>>): Promise<unknown> {
    return this.call('repo.configure', { repo, ...settings });
  }

  /** Creates `count` tasks, `concurrency` at a time; `fields(i)` gives each task's repo, title and skills. */
  async createTasks(count: number, concurrency: number, fields: (i: number) => Record<string, unknown>): Promise<string[]> {
    const ids: string[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const i = next++;
          const { task } = await this.call<{ task: { id: string } }>('task.create', fields(i));
          ids[i] = task.id;
        }
      }),
    );
    return ids;
  }

  async tasksByState(): Promise<Record<string, number>> {
    const m = await this.call<{ tasks_by_state: Record<string, number> }>('metrics.get', {});
    return m.tasks_by_state;
  }
}
