import type http from 'node:http';
import type net from 'node:net';

const marked = new WeakSet<http.ServerResponse>();

/** Makes this response the last one on its connection, if its headers have not left yet. */
export function markLast(response: http.ServerResponse): void {
  if (response.headersSent || marked.has(response)) return;
  marked.add(response);
  response.setHeader('Connection', 'close');
}

/** Undoes markLast (a pipelined request arrived behind this response), never an app's own header. */
export function unmarkLast(response: http.ServerResponse): void {
  if (response.headersSent || !marked.delete(response)) return;
  response.removeHeader('Connection');
}

/** node sets `_last` when it writes a response's headers with `Connection: close`: the socket ends after it. */
function sentAsLast(response: http.ServerResponse): boolean {
  return response.headersSent && (response as http.ServerResponse & { _last?: boolean })._last === true;
}

/**
 * Whether a request that node has just parsed can no longer be answered: an earlier response on its connection
 * already went out with `Connection: close` (a pipelined request behind it, RFC 9112 9.6: the server must not
 * process it), or the socket's write side is done (the idle rule's FIN, node's end after a last response).
 * Costs a getter and a field while the connection has no earlier response in flight.
 */
export function unanswerable(socket: net.Socket, earlier: readonly http.ServerResponse[]): boolean {
  if (!socket.writable) return true;
  for (let i = 0; i < earlier.length; i++) if (sentAsLast(earlier[i]!)) return true;
  return false;
}

/**
 * Keeps a request from the app: node's own path for an `Expect` it cannot meet answers 417 itself and emits no
 * 'request' (node 20 and 24, HTTP/1.1 requests, when the app has no 'checkExpectation' listener). That answer
 * never leaves either: the connection closes first. The client sees its request unanswered on a closed
 * connection, which it may send again: the app never ran it. Returns false where node offers no such path
 * (HTTP/1.0, or an app that handles 'checkExpectation'): the request then reaches the app as before.
 */
export function keepFromApp(request: http.IncomingMessage, server: net.Server): boolean {
  if (request.httpVersionMajor !== 1 || request.httpVersionMinor !== 1) return false;
  if (server.listenerCount('checkExpectation') > 0) return false;
  request.headers.expect = 'supervise-connection-closing';
  return true;
}
