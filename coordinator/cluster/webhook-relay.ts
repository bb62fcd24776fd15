/**
 * GitHub's webhook deliveries on a cluster: GitHub posts to whatever node the load balancer picks,
 * but only the leader runs the sync. A follower passes the delivery on to the leader unchanged
 * (the exact bytes and the signature headers: the leader checks the HMAC, the delivery id and the
 * body digest as a single coordinator does) and answers GitHub with the leader's answer. With no
 * leader to reach it answers 503, so GitHub shows the delivery failed and it can be redelivered.
 *
 * A delivery passed on carries X-OWP-Relayed; a node that gets one and does not lead answers 503
 * instead of passing it on again (two nodes that each think the other leads never loop). Anyone
 * may send that header: it can only make a follower refuse, never skip a check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StaticHandler } from '../http.ts';
import type { Logger } from '../log.ts';

export interface WebhookRelayOptions {
  path: string;
  /** The leader's own handler (the GitHub integration's). */
  handler: StaticHandler;
  leads: () => boolean;
  leaderUrl: () => string | null;
  /** Larger bodies are refused here, as the leader would (webhooks.ts MAX_WEBHOOK_BODY_BYTES). */
  maxBodyBytes: number;
  log?: Logger;
}

const RELAYED = 'x-owp-relayed';
/** The headers GitHub's deliveries carry that the leader reads. */
const PASSED = ['content-type', 'user-agent', 'x-github-event', 'x-github-delivery', 'x-github-hook-id', 'x-hub-signature-256', 'x-github-hook-installation-target-id', 'x-github-hook-installation-target-type'];

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return;
  const text = JSON.stringify({ ok: false, error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? 0) > max) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function webhookRelay(options: WebhookRelayOptions): StaticHandler {
  const pass = async (req: IncomingMessage, res: ServerResponse, leader: string): Promise<void> => {
    const body = await readBody(req, options.maxBodyBytes);
    if (body === null) {
      req.resume();
      return refuse(res, 413, 'PAYLOAD_TOO_LARGE', `Webhook payloads are limited to ${options.maxBodyBytes} bytes.`);
    }
    const headers: Record<string, string> = { [RELAYED]: '1' };
    for (const name of PASSED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let answer: Response;
    try {
      // GitHub waits 10 s; the leader answers within 8 (webhooks.ts), so this bound is not reached first.
      answer = await fetch(`${leader}${options.path}`, { method: 'POST', headers, body: new Uint8Array(body), signal: AbortSignal.timeout(9500) });
    } catch (error) {
      options.log?.warn({ err: error, leader }, 'webhook: could not pass the delivery on to the leader');
      return refuse(res, 503, 'UNAVAILABLE', 'The cluster\'s leader could not be reached; redeliver this delivery later.');
    }
    const text = await answer.text();
    if (res.headersSent) return;
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  };

  return (req, res, path) => {
    if (path !== options.path) return options.handler(req, res, path);
    if (options.leads()) return options.handler(req, res, path);
    const leader = options.leaderUrl();
    if (req.method !== 'POST' || req.headers[RELAYED] !== undefined || !leader) {
      if (req.method !== 'POST') return options.handler(req, res, path);
      req.resume();
      refuse(res, 503, 'UNAVAILABLE', 'This node does not lead the cluster and knows no leader to pass the delivery on to; redeliver it later.');
      return true;
    }
    pass(req, res, leader).catch((error: unknown) => {
      options.log?.error({ err: error }, 'webhook relay failed');
      refuse(res, 500, 'INTERNAL', 'The webhook could not be handled.');
    });
    return true;
  };
}
