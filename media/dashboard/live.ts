/**
 * The live feed: a maintainer socket subscribed to the journal. After every (re)connect it says
 * hello with the last seq it folded, so the coordinator replays exactly what was missed.
 */
import { io, type Socket } from 'socket.io-client';
import type { JournalEvent } from '../../protocol/journal-events.ts';
import type { Ack } from '../../protocol/operations.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'refused';

export interface LiveHandlers {
  lastSeq(): number;
  onEvents(events: JournalEvent[]): void;
  onState(state: LiveState, detail?: string): void;
}

export class LiveJournal {
  private readonly socket: Socket;
  /**
   * Between connect and the hello ack the coordinator sends the catch-up pages while live events
   * may already arrive from the room: hold both, then deliver them in seq order.
   */
  private held: JournalEvent[] | null = null;

  constructor(url: string, token: string, private readonly handlers: LiveHandlers) {
    this.socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    handlers.onState('connecting');
    this.socket.on('connect', () => this.hello());
    this.socket.on('journal.appended', (payload: { events?: JournalEvent[] }) => {
      if (!Array.isArray(payload?.events)) return;
      if (this.held) this.held.push(...payload.events);
      else handlers.onEvents(payload.events);
    });
    this.socket.on('disconnect', (reason) => {
      handlers.onState('reconnecting');
      // socket.io retries by itself after a network loss, but not after the server hung up on us.
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 1000);
    });
    this.socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'UNAUTHENTICATED') {
        this.socket.disconnect();
        handlers.onState('refused', error.message);
      } else handlers.onState('reconnecting', error.message);
    });
  }

  private hello(): void {
    const params = { protocol_version: PROTOCOL_VERSION, subscribe: ['journal'], journal_after_seq: this.handlers.lastSeq() };
    this.held = [];
    this.socket.emit('session.hello', params, (ack: Ack<unknown>) => {
      const held = (this.held ?? []).sort((a, b) => a.seq - b.seq);
      this.held = null;
      if (held.length > 0) this.handlers.onEvents(held);
      if (ack.ok) this.handlers.onState('live');
      else {
        this.handlers.onState('refused', ack.error.message);
        this.socket.disconnect();
      }
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}
