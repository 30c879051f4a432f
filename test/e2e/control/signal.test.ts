/**
 * `supervise signal <name>` (PM2's sendSignal): the workers' onSignal() handlers hear it, no worker is killed; a
 * SIGUSR2 sent to the master itself is the master's (the upgrade), not the workers'.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { fixture, freePort, isAlive, killAll, runCli, supervise } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('supervise signal', () => {
  it("relays USR2 to every worker's onSignal(); each worker hears it and none exits", async () => {
    const port = await freePort();
    const s = supervise([fixture('observe/signal-app.js'), '-w', '2'], { env: { PORT: String(port) } });
    await s.ready();
    const sock = (await s.waitEvent('control.listening')).path as string;
    const pids = s.forkedPids();
    expect(pids).toHaveLength(2);

    const sent = await runCli(['signal', 'usr2', '--control', sock]);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toBe("relayed SIGUSR2 to 2 workers (the SDK's onSignal())\n");
    expect(sent.code).toBe(0);
    for (const pid of pids)
      await s.waitFor((l) => l.src === 'worker' && String(l.msg) === `heard SIGUSR2 in ${pid}`, 10_000);

    const json = await runCli(['signal', 'SIGUSR2', '--json', '--control', sock]);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, signal: 'SIGUSR2', workers: 2 });
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    expect(s.events('worker.exit')).toEqual([]);

    // Every command of the control API takes --json, stop included: how the stop ended, as one object.
    const stop = await runCli(['stop', '--json', '--control', sock]);
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({ ok: true, stopped: true, pid: s.pid, exitCode: 0 });
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a name that is no signal is one line and exit 2, before any master is asked', async () => {
    const bad = await runCli(['signal', 'USR9', '--control', '/nonexistent/supervise.sock']);
    expect(bad.stderr).toBe('supervise: signal: expected a signal name, such as USR2 or SIGUSR2, got "USR9"\n');
    expect(bad.code).toBe(2);
  });
});
