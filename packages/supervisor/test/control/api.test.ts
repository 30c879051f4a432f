import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type ReplyLine, sendRequest } from '../../src/control/client.js';
import { rolloutReply } from '../../src/control/reply.js';
import { CONTROL_COMMANDS, type ControlCommand, type RequestOf } from '../../src/control/api.js';
import { type ControlServer, serveControl } from '../../src/control/server.js';
import type { RolloutSummary, Supervisor, WorkerInfo } from '../../src/master/supervisor.js';
import { WorkerFailure } from '../../src/worker/state.js';

const summary = (over: Partial<RolloutSummary> = {}): RolloutSummary => ({
  generation: 2,
  outcome: 'done',
  replaced: 2,
  durationMs: 120,
  draining: 0,
  trigger: 'control',
  ...over,
});

describe('rolloutReply: the one form of a rollout on the socket', () => {
  it('keeps the summary and reduces a failure to what JSON holds', () => {
    expect(rolloutReply(summary())).toEqual(summary());
    expect(rolloutReply(summary({ draining: 1 }), 300)).toEqual({ ...summary({ draining: 1 }), drainedMs: 300 });
    const failed = rolloutReply(
      summary({
        outcome: 'rolled-back',
        replaced: 0,
        failure: {
          slot: 1,
          worker: { pid: 42 } as WorkerInfo,
          error: new WorkerFailure('crashed', 'worker 42 exited with code 1 before it was ready', []),
          cause: 'Error: boom',
          lines: ['Error: boom'],
        },
      }),
    );
    expect(failed.failure).toEqual({
      slot: 1,
      pid: 42,
      error: 'worker 42 exited with code 1 before it was ready',
      cause: 'Error: boom',
      lines: ['Error: boom'],
    });
    expect(JSON.parse(JSON.stringify(failed))).toEqual(failed);
  });
});

/** The parts of a Supervisor the control server reads, faked: the protocol is what is under test. */
class FakeMaster {
  phase = 'running';
  options = { workers: 2, script: '/app.js', cwd: '/' };
  generation = 1;
  readyCount = 2;
  rolloutRunning = false;
  acceptMode = 'shared';
  canaries = { current: null };
  log = { info: () => {} };
  scaled: number[] = [];
  status() {
    return [];
  }
  async scale(target: number) {
    this.scaled.push(target);
    this.options.workers = target;
  }
  async reload() {
    return summary({ draining: 1 });
  }
  async drained() {}
}

let dir: string | null = null;
let server: ControlServer | null = null;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = null;
  dir = null;
});

async function serve(master: FakeMaster): Promise<string> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-api-'));
  server = await serveControl(master as unknown as Supervisor, path.join(dir, 'c.sock'));
  return server.path;
}

async function ask<C extends ControlCommand>(file: string, request: RequestOf<C>): Promise<ReplyLine<C>[]> {
  const lines: ReplyLine<C>[] = [];
  await sendRequest(file, request, (body) => lines.push(body));
  return lines;
}

describe('the control API over a real socket, against a fake master', () => {
  it('answers each command with its reply type', async () => {
    const master = new FakeMaster();
    const file = await serve(master);
    expect(await ask(file, { cmd: 'scale', target: '+2' })).toEqual([{ ok: true, from: 2, to: 4 }]);
    expect(master.scaled).toEqual([4]);
    const [reload] = await ask(file, { cmd: 'reload', waitDrained: true });
    expect(reload).toMatchObject({ ok: true, rollout: { generation: 2, outcome: 'done', draining: 1 } });
    expect(reload && 'rollout' in reload ? reload.rollout.drainedMs : null).toBeGreaterThanOrEqual(120);
    const [status] = await ask(file, { cmd: 'status' });
    expect(status).toMatchObject({ ok: true, master: { workers: 4, accept: 'shared' }, workers: [] });
    const logs = await ask(file, { cmd: 'logs', lines: 0 });
    expect(logs).toEqual([{ ok: true, lines: 0 }]);
    // `stop` is left out: its connection ends with the master's process, which a fake cannot end.
  });

  it('refuses a bad argument with one error line, from the same parser the CLI uses', async () => {
    const file = await serve(new FakeMaster());
    expect(await ask(file, { cmd: 'scale', target: 'lots' })).toEqual([
      { ok: false, code: 'ERR_USAGE', error: 'bad request: scale: target must be n, +n, -n or max' },
    ]);
    expect(await ask(file, { cmd: 'scale', target: '0' })).toEqual([
      { ok: false, code: 'ERR_USAGE', error: 'scale: 0 would leave 0 workers; at least 1 must run' },
    ]);
  });

  it('lists every command the request parser knows', () => {
    expect(CONTROL_COMMANDS).toEqual([
      'status',
      'reload',
      'stop',
      'scale',
      'logs',
      'config',
      'inspect',
      'heap-snapshot',
      'report',
      'upgrade',
      'signal',
    ]);
  });

  it('upgrade: a relative --node is refused by the parser; a master the CLI did not start refuses in one line', async () => {
    const file = await serve(new FakeMaster());
    expect(await ask(file, { cmd: 'upgrade', node: 'bin/node' })).toEqual([
      { ok: false, code: 'ERR_USAGE', error: 'bad request: upgrade: node must be an absolute path to a node binary' },
    ]);
    expect(await ask(file, { cmd: 'upgrade' })).toEqual([
      { ok: false, code: 'ERR_CONTROL', error: 'upgrade needs a master started by the supervise CLI' },
    ]);
  });
});
