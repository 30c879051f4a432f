import type inspector from 'node:inspector';
import path from 'node:path';
import v8 from 'node:v8';

import { type DebugAnswer, type DebugRequest, isMasterMessage, receiveMessages, sendMessage } from './protocol.js';
import type { WorkerMessage } from './protocol.js';

/**
 * Debugging one worker without a restart (`supervise inspect|heap-snapshot|report`): the master asks over IPC,
 * the worker acts in its own process and answers. Attached by the preload in every worker, with or without the
 * drain engine, once per process.
 */

const KEY = Symbol.for('supervise.debug');

export function attachDebug(): void {
  const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (holder[KEY] || typeof process.send !== 'function') return;
  holder[KEY] = true;
  receiveMessages(process, isMasterMessage, (msg) => {
    if (msg.type !== 'debug') return;
    sendMessage<WorkerMessage>(process, { type: 'debug', id: msg.id, answer: runDebug(msg.request) });
  });
}

/** Loaded on use: node:inspector (and the worker_threads it loads) would cost every worker's boot. */
function loadInspector(): typeof inspector {
  return require('node:inspector') as typeof inspector;
}

/** Files are named after the worker and the moment, so two snapshots never overwrite each other. */
function fileName(kind: string, ext: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${kind}-${process.pid}-${stamp}.${ext}`;
}

export function runDebug(request: DebugRequest): DebugAnswer {
  try {
    switch (request.action) {
      case 'inspect': {
        const inspector = loadInspector();
        // Loopback only, whatever the request says: the inspector runs any code it is sent.
        if (!inspector.url()) inspector.open(request.port, '127.0.0.1', false);
        // A port in use does not throw: Node prints a line on stderr and leaves the inspector closed.
        if (!inspector.url()) return { ok: false, error: `cannot listen on 127.0.0.1:${request.port} (in use?)` };
        return { ok: true, url: inspector.url() ?? null };
      }
      case 'inspect-close':
        loadInspector().close();
        return { ok: true, url: null };
      case 'heap-snapshot':
        return { ok: true, path: v8.writeHeapSnapshot(path.join(request.dir, fileName('heap', 'heapsnapshot'))) };
      case 'report':
        return {
          ok: true,
          path: privately(() => process.report.writeReport(path.join(request.dir, fileName('report', 'json')))),
        };
    }
  } catch (err) {
    return { ok: false, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

/**
 * A report holds the environment (secrets, often) and may land in a shared /tmp: created 0600 from its first
 * instant (V8 already writes heap snapshots so). writeReport is synchronous: nothing else runs under the umask.
 */
function privately<T>(write: () => T): T {
  const previous = process.umask(0o077);
  try {
    return write();
  } finally {
    process.umask(previous);
  }
}
