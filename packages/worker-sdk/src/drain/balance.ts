import type http from 'node:http';

import { type Connection, isUpgraded } from './connections.js';
import { markLast } from './marking.js';

/**
 * Moving keep-alive connections between workers that accept from one shared socket (--accept shared): the
 * kernel hands a burst of new connections to whichever worker it wakes, and keep-alive connections stay where
 * they landed. A worker the master finds holding more than its share marks some of them; the next response on
 * each says `Connection: close`, so its client finishes that exchange and opens a new connection, which the
 * kernel gives to a worker then waiting. Nothing is cut: the same path as a drain's last response.
 */

/** HTTP/1.1 connections that can move: not upgraded (WebSocket), not a stream the drain ended, not marked. */
export function movable(conns: Iterable<Connection>): Connection[] {
  const out: Connection[] = [];
  for (const conn of conns) if (canMove(conn)) out.push(conn);
  return out;
}

/**
 * How many movable() there are, and how many upgraded ones (WebSockets: they never move), in one walk without
 * building a list (a balanced worker counts them every 100 ms).
 */
export function connectionCounts(conns: Iterable<Connection>): { movable: number; upgraded: number } {
  let movable = 0;
  let upgraded = 0;
  for (const conn of conns) {
    if (canMove(conn)) movable++;
    else if (conn.kind === 'http' && isUpgraded(conn)) upgraded++;
  }
  return { movable, upgraded };
}

function canMove(conn: Connection): boolean {
  return conn.kind === 'http' && !conn.shed && !conn.closeAfterFinish && !isUpgraded(conn);
}

/** Marks `count` connections to move, the idle ones first (their next request is the one that says goodbye). */
export function shed(conns: Iterable<Connection>, count: number): number {
  const candidates = movable(conns).sort((a, b) => a.pending.length - b.pending.length);
  const marked = candidates.slice(0, Math.max(0, count));
  for (const conn of marked) conn.shed = true;
  return marked.length;
}

/** A request on a connection marked to move: its response is the connection's last. */
export function lastIfMoving(conn: Connection, response: http.ServerResponse): void {
  if (!conn.shed) return;
  conn.shed = false;
  markLast(response);
}
