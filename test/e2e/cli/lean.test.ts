import { readFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { example, fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** The node built-in modules a supervise process loaded, read from the preload's file once it has exited. */
function probe(): { env: Record<string, string>; loaded: () => string[] } {
  const out = path.join(tempDir('supervise-lean-'), 'loaded.txt');
  return {
    env: { NODE_OPTIONS: `--require ${fixture('cli/loaded-builtins.cjs')}`, LOADED_OUT: out },
    loaded: () => readFileSync(out, 'utf8').trim().split('\n'),
  };
}

async function masterLoads(args: string[]): Promise<string[]> {
  const p = probe();
  const s = supervise([example('http-basic/server.js'), '-w', '1', ...args], {
    env: { ...p.env, PORT: String(await freePort()), HOST: '127.0.0.1' },
  });
  await s.ready();
  s.signal('SIGTERM');
  expect((await s.waitExit()).code).toBe(0);
  return p.loaded();
}

describe('the master and the commands load only what they use', () => {
  it('--version and a control command load neither node:cluster nor node:http', async () => {
    for (const args of [['--version'], ['status', '--control', '/nonexistent/supervise.sock']]) {
      const p = probe();
      const r = await runCli(args, { env: p.env });
      expect(r.code).toBe(args[0] === '--version' ? 0 : 5);
      expect(p.loaded()).not.toContain('cluster');
      expect(p.loaded()).not.toContain('http');
      // commander's executable subcommands (none here) would load it, and net, dgram with it.
      expect(p.loaded()).not.toContain('child_process');
    }
  });

  it('--version does not load the control client: no node:crypto (the socket names)', async () => {
    const p = probe();
    expect((await runCli(['--version'], { env: p.env })).code).toBe(0);
    // node:net it may load: a piped stdout is a net.Socket.
    expect(p.loaded()).not.toContain('crypto');
  });

  it('a master without --health-port does not load node:http; with one it does', async () => {
    const plain = await masterLoads([]);
    expect(plain).toContain('cluster');
    expect(plain).not.toContain('http');
    // Its JSON log is json-logger's, not pino's (which loads node:worker_threads for its transports).
    expect(plain).not.toContain('worker_threads');
    // Its control socket's name is hashed without node:crypto (control/sha256.ts).
    expect(plain).not.toContain('crypto');
    const health = await masterLoads(['--health-port', '0']);
    expect(health).toContain('http');
  });
});
