import net from 'node:net';

import type { ControlCommand, ReplyOf, RequestOf } from './api.js';
import type { ErrorReply } from './reply.js';
import { SuperviseError } from '../errors.js';

/** A line the master answers a command with: one of its replies, or a refusal. */
export type ReplyLine<C extends ControlCommand> = ReplyOf<C> | ErrorReply;

/**
 * Sends one request and calls `onReply` for each line the master answers; resolves when the master closes
 * the connection. Unreachable masters become ERR_CONTROL (exit 5).
 */
export function sendRequest<C extends ControlCommand>(
  file: string,
  request: RequestOf<C>,
  onReply: (body: ReplyLine<C>) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let buffer = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          // The master of this release answers with the types of api.ts (both ends are this package).
          const body: ReplyLine<C> = JSON.parse(line);
          onReply(body);
        } catch (err) {
          if (err instanceof SyntaxError) continue;
          socket.destroy();
          reject(err);
          return;
        }
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) {
        // The master went away mid-answer (a stop ends with exactly that): the caller judges what it got.
        resolve();
        return;
      }
      const why =
        err.code === 'ENOENT'
          ? 'no such socket'
          : err.code === 'ECONNREFUSED'
            ? 'nothing listens on it (the master is gone)'
            : err.code === 'EACCES'
              ? 'permission denied (the master runs as another user)'
              : (err.code ?? err.message);
      reject(new SuperviseError('ERR_CONTROL', `cannot reach a supervise master at ${file}: ${why}`));
    });
    socket.on('close', () => resolve());
  });
}
