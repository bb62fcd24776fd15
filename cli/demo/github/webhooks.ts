/**
 * Webhook deliveries as GitHub sends them: a JSON POST with X-GitHub-Event, X-GitHub-Delivery and
 * the HMAC signatures (X-Hub-Signature-256, and the legacy SHA-1 one) over the exact body. Every
 * delivery is recorded with the status it got; "Redeliver" sends one again with the same id.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookDelivery } from './model.ts';

export class Webhooks {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(public hook: { url: string; secret: string } | undefined) {}

  get enabled(): boolean {
    return this.hook !== undefined;
  }

  /** Sends `payload` (already shaped, with repository and sender) as `event`. */
  deliver(event: string, action: string | undefined, payload: Record<string, unknown>): void {
    if (!this.hook) return;
    // Some events (push, status) have no action.
    const body = JSON.stringify(action === undefined ? payload : { action, ...payload });
    const delivery: WebhookDelivery = { id: randomUUID(), event, action, body, status: null };
    this.deliveries.push(delivery);
    void this.track(this.post(delivery));
  }

  /** Sends a recorded delivery again with the same delivery id (GitHub's "Redeliver"). */
  redeliver(id: string): Promise<void> {
    const delivery = this.deliveries.find((d) => d.id === id);
    if (!delivery) throw new Error(`no delivery ${id}`);
    const again: WebhookDelivery = { ...delivery, status: null };
    this.deliveries.push(again);
    return this.track(this.post(again));
  }

  /** Resolves when every delivery in flight has been answered. */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private async post(delivery: WebhookDelivery): Promise<void> {
    const hook = this.hook;
    if (!hook) return;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.id,
          'x-github-hook-id': '1',
          'x-hub-signature': `sha1=${createHmac('sha1', hook.secret).update(delivery.body).digest('hex')}`,
          'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(delivery.body).digest('hex')}`,
        },
        body: delivery.body,
        signal: AbortSignal.timeout(10_000),
      });
      delivery.status = res.status;
      await res.arrayBuffer();
    } catch (error) {
      delivery.error = (error as Error).message;
    }
  }
}
