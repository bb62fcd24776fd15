/**
 * Where a worker's notifications go (SPEC §8.1: offers, lease events, pushed to the worker's
 * sockets once their cause is durable). A socket.io room per worker (`worker:<id>`) cost each
 * connection a `Set`, an entry in the adapter's room map, a second entry in its own room set and
 * the room's name: about 300 bytes a worker at 10,000 (bench/README.md, "Memory per worker"). A
 * worker nearly always has one socket, so one map entry pointing at it does the same job; a worker
 * with several connections (two windows) keeps them in an array. On a cluster the room stays:
 * there the adapter carries a room's emits to the worker's sockets on the other nodes.
 */
import type { Socket } from 'socket.io';

export class WorkerSockets {
  private readonly byWorker = new Map<string, Socket | Socket[]>();

  /** The socket said hello as this worker: it receives the worker's notifications until `remove`. */
  add(workerId: string, socket: Socket): void {
    const held = this.byWorker.get(workerId);
    if (held === undefined) this.byWorker.set(workerId, socket);
    else if (Array.isArray(held)) {
      if (!held.includes(socket)) held.push(socket);
    } else if (held !== socket) this.byWorker.set(workerId, [held, socket]);
  }

  remove(workerId: string, socket: Socket): void {
    const held = this.byWorker.get(workerId);
    if (held === socket) this.byWorker.delete(workerId);
    else if (Array.isArray(held)) {
      const rest = held.filter((s) => s !== socket);
      if (rest.length === held.length) return;
      this.byWorker.set(workerId, rest.length === 1 ? (rest[0] as Socket) : rest);
    }
  }

  /** Sends a notification to every socket of the worker on this node (none: nothing is sent, as with an empty room). */
  emit(workerId: string, name: string, payload: unknown): void {
    const held = this.byWorker.get(workerId);
    if (held === undefined) return;
    if (Array.isArray(held)) for (const socket of held) socket.emit(name, payload);
    else held.emit(name, payload);
  }

  /** How many workers have a socket here (tests). */
  get size(): number {
    return this.byWorker.size;
  }

  /** The sockets of one worker (tests). */
  socketsOf(workerId: string): readonly Socket[] {
    const held = this.byWorker.get(workerId);
    return held === undefined ? [] : Array.isArray(held) ? [...held] : [held];
  }
}
