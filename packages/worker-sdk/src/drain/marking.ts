import type http from 'node:http';

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
