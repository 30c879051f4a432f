/**
 * h2load (Debian nghttp2-client), the HTTP/2 load generator, run as a user would, with its per-request log.
 *
 * Read its numbers with care: h2load never opens a new HTTP/2 connection after a GOAWAY (its session refuses
 * to submit, see nghttp2's h2load.cc process_request_failure), so with `-n` every request a session had not
 * yet sent when its GOAWAY came is counted "failed" and "errored" without ever being sent. What tells a lossy
 * drain from a lossless one is the streams it did send: each must succeed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { tempDir, trackPid } from './supervise.js';

/** The h2load binary, or null (the test then skips with this reason). */
export function h2loadPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v h2load'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface H2loadRun {
  /** The summary line's counts. */
  total: number;
  started: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  status2xx: number;
  /** Streams h2load sent that did not end in a response (its log's status -1): refused or reset. */
  streamErrors: number;
  /** Streams with a response, from the per-request log. */
  logged: number;
  output: string;
}

/**
 * Runs h2load against 127.0.0.1:port; `onProgress(percent)` is called at each of its "progress: N% done"
 * lines (every tenth of `-n`). Bounded by `timeoutMs`: a run that outlasts it is killed and rejected.
 */
export function h2load(
  port: number,
  args: string[],
  opts: { onProgress?: (percent: number) => void; timeoutMs?: number } = {},
): Promise<H2loadRun> {
  const bin = h2loadPath();
  if (!bin) return Promise.reject(new Error('h2load not found'));
  const log = path.join(tempDir('h2load-'), 'requests.log');
  const child = spawn(bin, [...args, '--log-file', log, `http://127.0.0.1:${port}/`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackPid(child.pid);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const m of chunk.matchAll(/progress: (\d+)% done/g)) opts.onProgress?.(Number(m[1]));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`h2load did not finish within ${opts.timeoutMs ?? 20_000} ms:\n${output}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const m = output.match(
        /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/,
      );
      if (!m) return reject(new Error(`no summary from h2load:\n${output}`));
      const codes = output.match(/status codes: (\d+) 2xx/);
      let lines: string[] = [];
      try {
        lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      } catch {
        // no request was logged
      }
      const [total, started, done, succeeded, failed, errored] = m.slice(1).map(Number) as number[];
      resolve({
        total: total!,
        started: started!,
        done: done!,
        succeeded: succeeded!,
        failed: failed!,
        errored: errored!,
        status2xx: Number(codes?.[1] ?? 0),
        streamErrors: lines.filter((l) => l.split('\t')[1] === '-1').length,
        logged: lines.length,
        output,
      });
    });
  });
}
