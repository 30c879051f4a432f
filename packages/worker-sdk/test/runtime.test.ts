import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { ENV, PROTOCOL_VERSION } from '../src/protocol.js';
import { Runtime, type RuntimeProcess } from '../src/runtime.js';

/** A worker process as the runtime sees it: its IPC channel to a master (or none), its env, signals and exit. */
function fakeProcess({ supervised = true, env = {} as Record<string, string> } = {}) {
  const sent: Record<string, unknown>[] = [];
  const exits: number[] = [];
  const stderr: string[] = [];
  const proc = Object.assign(new EventEmitter(), {
    connected: true,
    env: supervised ? { [ENV.worker]: String(PROTOCOL_VERSION), ...env } : env,
    pid: 4242,
    version: 'v20.99.0',
    cwd: () => '/srv/app',
    exit: (code: number) => void exits.push(code),
    stdout: new EventEmitter(),
    stderr: Object.assign(new EventEmitter(), { write: (s: string) => stderr.push(s) }),
    ...(supervised
      ? {
          send: (msg: Record<string, unknown>, _h?: unknown, _o?: object, done?: (err: Error | null) => void) => {
            sent.push(msg);
            done?.(null);
            return true;
          },
        }
      : {}),
  });
  const fromMaster = (body: Record<string, unknown>) => proc.emit('message', { $supervise: PROTOCOL_VERSION, ...body });
  const types = () => sent.map((m) => m.type);
  return { proc: proc as unknown as RuntimeProcess, emitter: proc, sent, exits, stderr, fromMaster, types };
}

/** Resolves once the fake saw a message of this type (the drain runs on the event loop). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('the condition never held');
}

describe('Runtime (one per worker: wires the drain engine to the master)', () => {
  it('reads its drain settings from the master’s environment', () => {
    const f = fakeProcess({ env: { [ENV.drainTimeout]: '1234' } });
    const r = new Runtime(f.proc);
    expect(r.supervised).toBe(true);
    expect(r.settings.drainTimeoutMs).toBe(1234);
    expect(new Runtime(fakeProcess({ supervised: false }).proc).supervised).toBe(false);
  });

  it('the preload says hello; the SDK after it says hello again with its mode; ready() is sent once', () => {
    const f = fakeProcess();
    const r = new Runtime(f.proc);
    r.attachPreload();
    r.attachSdk({ manualReady: true });
    r.ready();
    r.ready();
    expect(f.sent).toMatchObject([
      { type: 'hello', mode: 'preload', manualReady: false, pid: 4242, node: 'v20.99.0', cwd: '/srv/app' },
      { type: 'hello', mode: 'sdk', manualReady: true },
      { type: 'ready' },
    ]);
    expect(f.sent.every((m) => m.$supervise === PROTOCOL_VERSION)).toBe(true);
  });

  it("the master's drain: draining, then drained with the stats; it exits when the master says exit", async () => {
    const f = fakeProcess();
    const r = new Runtime(f.proc);
    r.attachSdk({});
    f.fromMaster({ type: 'drain', reason: 'rollout', deadlineMs: 2_000 });
    await until(() => f.types().includes('drained'));
    expect(f.types()).toEqual(['hello', 'draining', 'drained']);
    expect(f.sent[2]).toMatchObject({ stats: { forced: 0, timedOut: false } });
    expect(f.exits).toEqual([]);
    // A second drain (a SIGTERM meanwhile) changes nothing.
    f.emitter.emit('SIGTERM');
    f.fromMaster({ type: 'exit' });
    expect(f.exits).toEqual([0]);
    expect(f.types().filter((t) => t === 'draining')).toHaveLength(1);
  });

  it('signals the master forwards reach the handlers registered for them, until unsubscribed', () => {
    const f = fakeProcess();
    const r = new Runtime(f.proc);
    r.attachSdk({});
    const got: string[] = [];
    const off = r.onSignal('SIGUSR2', (s) => got.push(s));
    f.fromMaster({ type: 'signal', signal: 'SIGUSR2' });
    f.fromMaster({ type: 'signal', signal: 'SIGUSR1' });
    off();
    f.fromMaster({ type: 'signal', signal: 'SIGUSR2' });
    expect(got).toEqual(['SIGUSR2']);
  });

  it('the master gone (disconnect): the worker drains by itself and exits', async () => {
    const f = fakeProcess();
    const r = new Runtime(f.proc);
    r.attachSdk({});
    (f.emitter as unknown as { connected: boolean }).connected = false;
    f.emitter.emit('disconnect');
    await until(() => f.exits.length > 0);
    expect(f.exits).toEqual([0]);
  });

  it('standalone (no master): SIGTERM drains, reports on stderr and exits 0; a second signal exits 128 + n', async () => {
    const f = fakeProcess({ supervised: false });
    const r = new Runtime(f.proc);
    r.attachSdk({});
    f.emitter.emit('SIGTERM', 'SIGTERM');
    await until(() => f.exits.length > 0);
    expect(f.exits).toEqual([0]);
    expect(f.stderr.join('')).toMatch(/^\[supervise\] drained on signal in \d+ ms: 0 requests completed/);
    f.emitter.emit('SIGINT', 'SIGINT');
    expect(f.exits).toEqual([0, 130]);
  });
});
