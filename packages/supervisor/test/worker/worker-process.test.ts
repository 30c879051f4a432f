import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

import { PROTOCOL_VERSION } from '@supervise/worker-sdk/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * A stand-in for node:cluster's Worker and its ChildProcess: the test plays the worker's side (its messages,
 * its 'listening', its exit) and reads what the master sent and which signals it used.
 */
class FakeChild extends EventEmitter {
  pid: number | undefined = 4242;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly signals: string[] = [];
  kill(sig: string): boolean {
    this.signals.push(sig);
    return true;
  }
}

class FakeWorker extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWorker.nextId++;
  readonly process = new FakeChild();
  readonly sent: { type: string; [k: string]: unknown }[] = [];
  connected = true;
  disconnects = 0;
  isConnected(): boolean {
    return this.connected;
  }
  disconnect(): void {
    this.disconnects++;
    this.connected = false;
  }
  send(msg: { type: string }, _handle?: unknown, _options?: unknown, done?: (err: Error | null) => void): boolean {
    this.sent.push(msg);
    done?.(null);
    return true;
  }
  /** The worker's side: a protocol message, as its SDK or preload would send it. */
  says(body: { type: string; [k: string]: unknown }): void {
    this.emit('message', { $supervise: PROTOCOL_VERSION, ...body });
  }
  /** The process ends; its pipes close with it. */
  exits(code: number | null, signal: string | null = null): void {
    this.emit('exit', code, signal);
    this.process.emit('close');
  }
}

import { WorkerProcess } from '../../src/worker/worker-process.js';

const TIMEOUTS = { drainTimeoutMs: 1_000, killTimeoutMs: 5_000 };

function start() {
  const fake = new FakeWorker();
  const w = new WorkerProcess(0, 1, fake as unknown as Worker, TIMEOUTS);
  const states: string[] = [];
  w.on('state', (_from: string, to: string) => states.push(to));
  return { w, fake, states };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkerProcess: readiness', () => {
  it('a worker without the engine is ready at its first listening', async () => {
    const { w, fake, states } = start();
    const ready = w.waitReady(1_000);
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    await ready;
    expect(states).toEqual(['ready']);
    expect(w.listeningOn).toEqual(['http://127.0.0.1:3000']);
    expect(w.readyAt).not.toBeNull();
  });

  it('an app that says ready() itself is not ready when it listens, only when it says so', async () => {
    const { w, fake } = start();
    fake.says({ type: 'hello', mode: 'sdk', manualReady: true, pid: 4242 });
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    expect(w.state).toBe('starting');
    fake.says({ type: 'ready' });
    await w.waitReady(1_000);
    expect(w.state).toBe('ready');
    expect(w.usesSdk).toBe(true);
  });

  it('waitReady rejects with the cause when the worker exits first, with its last lines', async () => {
    const { w, fake } = start();
    const ready = w.waitReady(1_000);
    fake.process.stderr.write('Error: boom\n');
    await new Promise((r) => setImmediate(r));
    fake.exits(1);
    await expect(ready).rejects.toMatchObject({ reason: 'crashed', lastLines: ['Error: boom'], exitCode: 1 });
    expect(w.state).toBe('exited');
  });

  it('waitReady rejects at its deadline', async () => {
    vi.useFakeTimers();
    const { w } = start();
    const ready = w.waitReady(500);
    vi.advanceTimersByTime(500);
    await expect(ready).rejects.toMatchObject({ reason: 'ready-timeout' });
  });

  it('a worker that speaks another protocol version never becomes ready', async () => {
    const { w, fake } = start();
    const ready = w.waitReady(1_000);
    fake.emit('message', { $supervise: PROTOCOL_VERSION + 1, type: 'hello' });
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    await expect(ready).rejects.toMatchObject({ reason: 'protocol' });
    expect(w.state).toBe('starting');
  });
});

describe('WorkerProcess: drain and exit', () => {
  it('a worker with the engine is asked to drain, acks, is told to exit, and reports its stats', async () => {
    const { w, fake, states } = start();
    fake.says({ type: 'hello', mode: 'preload', manualReady: false, pid: 4242 });
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    const exited = w.drain('rollout');
    expect(fake.sent.at(-1)).toMatchObject({ type: 'drain', deadlineMs: 1_000, reason: 'rollout' });
    const stats = { forced: 0 };
    fake.says({ type: 'drained', stats });
    expect(fake.sent.at(-1)).toMatchObject({ type: 'exit' });
    fake.exits(0);
    const info = await exited;
    expect(info).toMatchObject({ code: 0, intended: true, killed: false, reason: 'rollout', served: true, stats });
    expect(states).toEqual(['ready', 'draining', 'exited']);
    expect(fake.process.signals).toEqual([]);
  });

  it('a worker without the engine is disconnected, then SIGTERM at the drain timeout, SIGKILL at the kill timeout', async () => {
    vi.useFakeTimers();
    const { w, fake } = start();
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    const exited = w.drain('stop');
    expect(fake.disconnects).toBe(1);
    vi.advanceTimersByTime(TIMEOUTS.drainTimeoutMs);
    expect(fake.process.signals).toEqual(['SIGTERM']);
    vi.advanceTimersByTime(TIMEOUTS.killTimeoutMs - TIMEOUTS.drainTimeoutMs);
    expect(fake.process.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(w.timedOut).toBe(true);
    fake.exits(null, 'SIGKILL');
    await vi.runAllTimersAsync();
    expect(await exited).toMatchObject({ killed: true, intended: true, signal: 'SIGKILL' });
  });

  it('a second drain is the first one; draining an exited worker returns its exit', async () => {
    const { w, fake } = start();
    fake.says({ type: 'hello', mode: 'preload', manualReady: false, pid: 4242 });
    const first = w.drain('rollout');
    const second = w.drain('stop');
    expect(fake.sent.filter((m) => m.type === 'drain')).toHaveLength(1);
    fake.exits(0);
    expect(await second).toBe(await first);
    expect((await w.drain('stop')).reason).toBe('rollout');
  });

  it('a crash is an exit the master did not ask for', async () => {
    const { w, fake } = start();
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    fake.exits(null, 'SIGSEGV');
    expect(await w.exited).toMatchObject({ intended: false, killed: false, signal: 'SIGSEGV', served: true });
  });

  it('a worker that starts a drain itself (its own SIGTERM) is draining, with its own deadline', async () => {
    vi.useFakeTimers();
    const { w, fake } = start();
    const selfDrain = vi.fn();
    w.on('self-drain', selfDrain);
    fake.says({ type: 'hello', mode: 'preload', manualReady: false, pid: 4242 });
    fake.emit('listening', { address: '127.0.0.1', port: 3000, addressType: 4 });
    fake.says({ type: 'draining' });
    expect(w.state).toBe('draining');
    expect(w.drainReason).toBe('signal');
    expect(selfDrain).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(TIMEOUTS.killTimeoutMs);
    expect(fake.process.signals).toEqual(['SIGKILL']);
  });
});

describe('WorkerProcess: what it reports', () => {
  it('heartbeats give counts, and rates from the second one on', async () => {
    vi.useFakeTimers();
    const { w, fake } = start();
    const load = { rssBytes: 1, heapUsedBytes: 2, cpuMicros: 0, elu: 0.1, lagMs: 1 };
    fake.says({ type: 'heartbeat', requests: 10, inFlight: 2, load });
    expect(w.requests).toBe(10);
    expect(w.inFlight).toBe(2);
    expect(w.load).toBeNull();
    vi.advanceTimersByTime(1_000);
    fake.says({ type: 'heartbeat', requests: 110, inFlight: 0, load: { ...load, cpuMicros: 500_000 } });
    expect(w.load).toMatchObject({ requestsPerSecond: 100, cpuPercent: 50 });
  });

  it("the app's metrics are asked by id; an answer after the deadline is null", async () => {
    vi.useFakeTimers();
    const { w, fake } = start();
    fake.says({ type: 'hello', mode: 'sdk', manualReady: false, pid: 4242 });
    const first = w.appMetrics(100);
    const ask = fake.sent.at(-1)!;
    expect(ask.type).toBe('metrics');
    fake.says({ type: 'metrics', id: ask.id, metrics: [{ name: 'x' }] });
    expect(await first).toEqual([{ name: 'x' }]);
    const late = w.appMetrics(100);
    vi.advanceTimersByTime(100);
    expect(await late).toBeNull();
  });

  it("holds a restarted worker's output until told, and keeps the last lines for a crash report", async () => {
    const { w, fake } = start();
    const lines: string[] = [];
    w.on('line', (_s: string, line: string) => lines.push(line));
    w.holdOutput();
    fake.process.stdout.write('one\ntwo\n');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([]);
    w.releaseOutput();
    expect(lines).toEqual(['one', 'two']);
    expect(w.lastLines).toEqual(['one', 'two']);
  });
});
