/**
 * Failures name their cause (issue 17): the last line a user reads carries the worker's first error line and
 * the app's own file:line, and a crash loop prints the stack once.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { example, fixture, freePort, killAll, runCli, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** The master's own stderr lines (not the workers' JSON lines). */
const ownStderr = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('supervise:'));

describe('failures name their cause', () => {
  it('a crash loop at boot (-w 6): one last line with the error and app.js:line, the stack printed once', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/boom-app.js'), '-w', '6'], { env: { PORT: String(port) } });
    expect((await s.waitExit(15_000)).code).toBe(3);
    const cause = 'Error: boom: DATABASE_URL is not set (test/fixtures/faults/boom-app.js:4)';
    const own = ownStderr(s.stderr);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(
      /^supervise: workers keep failing before they are ready \(5 times within 60000 ms\): worker \d+ exited with code 1 before it was ready: /,
    );
    expect(own[0]!.endsWith(cause)).toBe(true);
    expect(s.events('master.fatal')[0]).toMatchObject({ code: 'ERR_BOOT_FAILURE', cause });
    // Six workers failed the same way: the stack shows once, as the first one's own output.
    const everything = `${s.stdout}\n${s.stderr}`;
    expect(everything.match(/at Object\.<anonymous>/g)).toHaveLength(1);
    expect(s.events('worker.boot-failed').length).toBeGreaterThanOrEqual(5);
    for (const f of s.events('worker.boot-failed')) expect(f.cause).toBe(cause);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a rollout that rolls back, by SIGHUP or `supervise reload`: the log line, the command and its --json carry the cause', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/bad-release.js'), '-w', '1'], { env: { PORT: String(port) } });
    await s.ready();
    const cause = /Error: boom: release \d+ cannot read its config \(test\/fixtures\/faults\/bad-release\.js:5\)/;

    s.signal('SIGHUP');
    const end = await s.waitEvent('rollout.end', (l) => l.outcome === 'rolled-back');
    expect(String(end.msg)).toMatch(
      new RegExp(
        `^rollout 2 rolled back after \\d+ ms: worker \\d+ exited with code 1 before it was ready: ${cause.source}; `,
      ),
    );
    expect(end.cause).toMatch(cause);

    const listening = await s.waitEvent('control.listening');
    const sock = listening.path as string;
    const reload = await runCli(['reload', '--control', sock]);
    expect(reload.code).toBe(1);
    const lines = reload.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^supervise: rollout 3 rolled back after 0 replaced: worker \\d+ \\(slot 0\\): .*: ${cause.source}; the old workers keep serving$`,
      ),
    );

    const json = await runCli(['reload', '--json', '--control', sock]);
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.stdout) as { outcome: string; failure: { cause: string; lines: string[] } };
    expect(summary.outcome).toBe('rolled-back');
    expect(summary.failure.cause).toMatch(cause);
    expect(summary.failure.lines.join('\n')).toMatch(/Error: boom: release 4 cannot read its config/);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a .ts script without a TypeScript loader: a one-line hint where node cannot run it, a running app where it can', async () => {
    const port = await freePort();
    const s = supervise([example('typescript/plain.ts'), '-w', '1', '--crash-limit', '2'], {
      env: { PORT: String(port) },
    });
    const strips = Boolean((process.features as { typescript?: unknown }).typescript);
    if (strips) {
      // This node strips types itself (22.18+, 24): the app runs as it is.
      await s.ready();
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    } else {
      expect((await s.waitExit(15_000)).code).toBe(3);
      const own = ownStderr(s.stderr);
      expect(own).toHaveLength(1);
      expect(own[0]).toMatch(
        /: plain\.ts is TypeScript and node ran it without a loader: add --node-args "--import tsx" \(npm i -D tsx\), or compile it first$/,
      );
    }
  });

  it('a worker SDK of another protocol version: one line naming both versions, exit 2, no retry loop', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/foreign-protocol.js'), '-w', '2'], { env: { PORT: String(port) } });
    expect((await s.waitExit(10_000)).code).toBe(2);
    const own = ownStderr(s.stderr);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(
      /^supervise: worker \d+ speaks supervise protocol 99, this master 1: the app loads another release of @supervise\/worker-sdk than the master's; install the same release of both$/,
    );
    expect(s.events('worker.restart-scheduled')).toHaveLength(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
