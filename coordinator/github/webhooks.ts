/**
 * POST /webhooks/github: GitHub's deliveries. The `X-Hub-Signature-256` HMAC is checked over the
 * raw body in constant time (@octokit/webhooks-methods) before anything else is read; a missing
 * or bad signature is refused with 401. A repo may have its own secret (the token route: one
 * webhook per repo): a delivery signed with it is taken only for that repo, and one signed with
 * the section's secret only for repos without their own, so a leaked secret forges nothing for
 * the other repos. (A GitHub App has one webhook secret by design.) A delivery id seen before is answered 200 and ignored
 * (replay), from a durable, bounded log. A delivery that fails to process is forgotten again and
 * answered 502, so GitHub's "Redeliver" can retry it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { verify } from '@octokit/webhooks-methods';
import type { StaticHandler } from '../http.ts';
import type { SyncState } from './sync-state.ts';
import type { Logger } from '../log.ts';

/**
 * GitHub caps payloads at 25 MB, but the events OWP reads (issues, pull requests, pushes, check
 * runs) are far smaller: an issue body is at most 65 536 characters. A stranger can POST here
 * without the secret, so less is buffered before the signature can be checked.
 */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = MAX_WEBHOOK_BODY_BYTES;
/** Deliveries read or processed at once; more are refused with 503 (GitHub shows them failed, to redeliver). */
export const MAX_CONCURRENT_DELIVERIES = 8;
/** GitHub gives a receiver 10 s; answer before that and finish the work in the background. */
const ANSWER_WITHIN_MS = 8000;

export interface WebhookOptions {
  path: string;
  /** The section's secret (the App's, or every repo's without its own). */
  secret: string | undefined;
  /** Per-repo secrets, by lower-case `owner/name`. */
  repoSecrets?: ReadonlyMap<string, string>;
  state: SyncState;
  /** Handles one verified, first-seen delivery. */
  dispatch: (event: string, payload: Record<string, unknown>, deliveryId: string) => Promise<void>;
  log: Logger;
  now?: () => number;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  reply(res, status, { ok: false, error: { code, message } });
}

async function readRaw(req: IncomingMessage): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Which secret signed the body: '*' for the section's, a repo for its own, undefined for none. */
async function signer(options: WebhookOptions, body: string, signature: string): Promise<string | undefined> {
  if (body.length === 0) return undefined;
  const candidates: Array<[string, string]> = [...(options.secret ? [['*', options.secret] as [string, string]] : []), ...(options.repoSecrets ?? new Map())];
  for (const [who, secret] of candidates) {
    try {
      if (await verify(secret, body, signature)) return who;
    } catch {
      // A malformed signature header matches no secret.
    }
  }
  return undefined;
}

export function webhookHandler(options: WebhookOptions): StaticHandler {
  const now = options.now ?? Date.now;
  const inFlight = new Set<string>();
  let active = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Everything that can be refused without the body is refused before a byte of it is buffered.
    const signature = req.headers['x-hub-signature-256'];
    if (typeof signature !== 'string' || !/^sha256=[0-9a-f]{64}$/i.test(signature)) {
      req.resume();
      return refuse(res, 401, 'UNAUTHENTICATED', 'X-Hub-Signature-256 is missing or malformed. Set the webhook\'s secret in the repo\'s webhook settings to the coordinator\'s webhook secret.');
    }
    const raw = await readRaw(req);
    if (raw === null) {
      req.resume();
      return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `Webhook payloads are limited to ${MAX_BODY_BYTES} bytes.`);
    }
    const body = raw.toString('utf8');
    const signedFor = await signer(options, body, signature);
    if (signedFor === undefined) return refuse(res, 401, 'UNAUTHENTICATED', 'X-Hub-Signature-256 does not match the payload: the webhook secret differs from the coordinator\'s, or the body was changed on the way.');

    const event = req.headers['x-github-event'];
    const deliveryId = req.headers['x-github-delivery'];
    if (typeof event !== 'string' || !/^[a-z_]{1,64}$/.test(event) || typeof deliveryId !== 'string' || !/^[A-Za-z0-9-]{1,100}$/.test(deliveryId)) {
      return refuse(res, 400, 'VALIDATION_FAILED', 'X-GitHub-Event and X-GitHub-Delivery headers are required.');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return refuse(res, 400, 'VALIDATION_FAILED', 'The payload is not JSON; set the webhook\'s content type to application/json.');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return refuse(res, 400, 'VALIDATION_FAILED', 'The payload must be a JSON object.');
    const named = (payload as { repository?: { full_name?: unknown } }).repository?.full_name;
    const repo = typeof named === 'string' ? named.toLowerCase() : undefined;
    const allowed = signedFor === '*' ? repo === undefined || !options.repoSecrets?.has(repo) : repo === signedFor;
    if (!allowed) return refuse(res, 401, 'UNAUTHENTICATED', `X-Hub-Signature-256 was made with a secret that is not ${repo ?? 'this delivery'}'s: each repo with its own webhook secret must sign its own deliveries.`);

    // The delivery id is not signed: a captured delivery resent under a fresh id would pass a check
    // on the id alone. The signed body's digest is remembered too, so the same bytes count once.
    const bodyKey = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    // The body's digest first: a delivery whose bytes were seen under another id records nothing more.
    if (inFlight.has(deliveryId) || inFlight.has(bodyKey) || !(await options.state.firstDelivery(bodyKey, now())) || !(await options.state.firstDelivery(deliveryId, now()))) {
      options.log.info({ delivery: deliveryId, event }, `delivery ${deliveryId} (${event}) seen before; ignored`);
      return reply(res, 200, { ok: true, data: { delivery: deliveryId, duplicate: true } });
    }
    inFlight.add(bodyKey);
    inFlight.add(deliveryId);
    const work = options.dispatch(event, payload as Record<string, unknown>, deliveryId).then(
      () => true,
      async (error: unknown) => {
        options.log.error({ delivery: deliveryId, event, err: error }, `delivery ${deliveryId} (${event}) failed`);
        await options.state.forgetDeliveries([deliveryId, bodyKey]).catch(() => undefined);
        return false;
      },
    ).finally(() => {
      inFlight.delete(deliveryId);
      inFlight.delete(bodyKey);
    });
    const done = await Promise.race([work, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ANSWER_WITHIN_MS).unref())]);
    if (done === 'late') return reply(res, 202, { ok: true, data: { delivery: deliveryId, accepted: true } });
    if (done) return reply(res, 200, { ok: true, data: { delivery: deliveryId } });
    return refuse(res, 502, 'UNAVAILABLE', 'The delivery could not be processed (GitHub or the coordinator is unavailable); redeliver it later.');
  };

  return (req, res, path) => {
    if (path !== options.path) return false;
    if (req.method !== 'POST') {
      refuse(res, 405, 'UNKNOWN_OPERATION', `${options.path} takes POST deliveries from GitHub.`);
      return true;
    }
    if (active >= MAX_CONCURRENT_DELIVERIES) {
      req.resume();
      refuse(res, 503, 'UNAVAILABLE', `More than ${MAX_CONCURRENT_DELIVERIES} deliveries at once; redeliver this one later.`);
      return true;
    }
    active += 1;
    handle(req, res)
      .catch((error: unknown) => {
        options.log.error({ err: error }, 'webhook failed');
        refuse(res, 500, 'INTERNAL', 'The webhook could not be handled.');
      })
      .finally(() => (active -= 1));
    return true;
  };
}
