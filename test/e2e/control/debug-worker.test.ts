/**
 * Debugging one worker without a restart (issue 31): `supervise inspect` then a CDP client that evaluates in the
 * worker, `supervise heap-snapshot` and `supervise report` files that load, and a bad pid or slot.
 */
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** A master with 2 chatty workers, ready, and its control socket. */
async function started(
  extra: string[] = [],
): Promise<{ sock: string; pids: number[]; s: ReturnType<typeof supervise> }> {
  const port = await freePort();
  const s = supervise([fixture('observe/chatty-app.js'), '-w', '2', ...extra], { env: { PORT: String(port) } });
  await s.ready();
  const sock = (await s.waitEvent('control.listening')).path as string;
  const status = JSON.parse((await runCli(['status', '--json', '--control', sock])).stdout) as {
    workers: { pid: number; slot: number }[];
  };
  return { sock, pids: status.workers.sort((a, b) => a.slot - b.slot).map((w) => w.pid), s };
}

/** One CDP call over the inspector's WebSocket: Runtime.evaluate of `expression`, its value. */
async function evaluate(wsUrl: string, expression: string): Promise<unknown> {
  const ws = new WebSocket(wsUrl);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const answer = new Promise<{ result: { result: { value: unknown } } }>((resolve, reject) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { id?: number; result: { result: { value: unknown } } };
        if (msg.id === 1) resolve(msg);
      });
      ws.once('close', () => reject(new Error('the inspector closed the WebSocket without an answer')));
    });
    ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }));
    return (await answer).result.result.value;
  } finally {
    ws.terminate();
  }
}

describe('debugging one worker', () => {
  it('inspect <slot> opens the inspector on 127.0.0.1; a CDP client evaluates in that worker; --close closes it', async () => {
    const { sock, pids } = await started();
    const opened = await runCli(['inspect', '1', '--json', '--control', sock]);
    expect(opened.code).toBe(0);
    const reply = JSON.parse(opened.stdout) as { pid: number; slot: number; url: string };
    expect(reply).toMatchObject({ pid: pids[1], slot: 1 });
    const url = new URL(reply.url);
    expect(url.hostname).toBe('127.0.0.1');

    const list = (await (await fetch(`http://127.0.0.1:${url.port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    expect(list).toHaveLength(1);
    expect(await evaluate(list[0]!.webSocketDebuggerUrl, 'process.pid')).toBe(pids[1]);

    // Asked again (by pid this time), the same inspector answers.
    const again = JSON.parse((await runCli(['inspect', String(pids[1]), '--json', '--control', sock])).stdout);
    expect(again.url).toBe(reply.url);
    const closed = await runCli(['inspect', String(pids[1]), '--close', '--control', sock]);
    expect(closed).toMatchObject({ code: 0, stdout: `worker ${pids[1]} (slot 1): inspector closed\n` });
    await expect(fetch(`http://127.0.0.1:${url.port}/json/list`)).rejects.toThrow();

    // No restart: the same workers serve.
    const status = JSON.parse((await runCli(['status', '--json', '--control', sock])).stdout) as {
      workers: { pid: number }[];
    };
    expect(status.workers.map((w) => w.pid).sort()).toEqual([...pids].sort());
  });

  it('inspect --port on a port in use: one line saying so, exit 5, and the worker serves on', async () => {
    const { sock, pids } = await started();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['inspect', '0', '--port', String(port), '--control', sock]);
      expect(r).toMatchObject({
        code: 5,
        stderr: `supervise: inspect: worker ${pids[0]} (slot 0): cannot listen on 127.0.0.1:${port} (in use?)\n`,
      });
      const status = JSON.parse((await runCli(['status', '--json', '--control', sock])).stdout) as {
        workers: { pid: number; state: string }[];
      };
      expect(status.workers.map((w) => [w.pid, w.state])).toContainEqual([pids[0], 'ready']);
    } finally {
      taken.close();
    }
  });

  it('heap-snapshot and report write files that load, into --dir, and print their paths', async () => {
    const { sock, pids } = await started();
    const dir = tempDir();
    const heap = await runCli(['heap-snapshot', '0', '--dir', dir, '--control', sock]);
    expect(heap.code).toBe(0);
    const heapFile = heap.stdout.trim();
    expect(path.dirname(heapFile)).toBe(dir);
    const snapshot = JSON.parse(readFileSync(heapFile, 'utf8')) as { snapshot: { meta: { node_fields: string[] } } };
    expect(snapshot.snapshot.meta.node_fields).toContain('name');

    const report = await runCli(['report', String(pids[1]), '--dir', dir, '--control', sock]);
    expect(report.code).toBe(0);
    const parsed = JSON.parse(readFileSync(report.stdout.trim(), 'utf8')) as { header: { processId: number } };
    expect(parsed.header.processId).toBe(pids[1]);
    // Both hold secrets (the heap's strings, the report's environment): the owner's alone, even in /tmp.
    expect(statSync(heapFile).mode & 0o777).toBe(0o600);
    expect(statSync(report.stdout.trim()).mode & 0o777).toBe(0o600);
  });

  it('with --no-auto-drain (no drain engine in the workers) too', async () => {
    const { sock, pids } = await started(['--no-auto-drain']);
    const dir = tempDir();
    const report = await runCli(['report', '0', '--dir', dir, '--control', sock]);
    expect(report.code).toBe(0);
    const parsed = JSON.parse(readFileSync(report.stdout.trim(), 'utf8')) as { header: { processId: number } };
    expect(parsed.header.processId).toBe(pids[0]);
  });

  it('a pid or slot no worker has: one line, exit 7; a word: one line, exit 2; a missing --dir: exit 2', async () => {
    const { sock } = await started();
    const none = await runCli(['report', '4242424', '--control', sock]);
    expect(none.code).toBe(7);
    expect(none.stderr).toMatch(
      /^supervise: report: no live worker has pid or slot 4242424; workers: \d+ \(slot 0\), \d+ \(slot 1\)\n$/,
    );
    const word = await runCli(['inspect', 'first', '--control', sock]);
    expect(word).toMatchObject({
      code: 2,
      stderr: `supervise: inspect: expected a worker's pid or slot, got "first"\n`,
    });
    const missing = path.join(tempDir(), 'nope');
    const dir = await runCli(['heap-snapshot', '0', '--dir', missing, '--control', sock]);
    expect(dir).toMatchObject({ code: 2, stderr: `supervise: heap-snapshot: ${missing} is not a directory\n` });
  });
});
