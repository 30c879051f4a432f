import { spawn, spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { CLI, example, fixture, trackPid } from '../../helpers/supervise.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^supervise: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('bad input: one line on stderr, exit code 2, no stack trace', () => {
  const app = example('http-basic/server.js');

  it('-w 0', () => {
    const r = run(app, '-w', '0');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--workers must be a positive integer/);
  });

  it('-w abc', () => {
    const r = run(app, '-w', 'abc');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--workers must be a positive integer or "max", got "abc"/);
  });

  it('a missing script', () => {
    const r = run('does-not-exist.js', '-w', '2');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /script not found: .*does-not-exist\.js/);
  });

  it('no script at all', () => {
    const r = run();
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /missing required argument 'script'/);
  });

  it('an unknown flag', () => {
    const r = run(app, '--frobnicate');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /unknown option '--frobnicate'/);
  });

  it('a bad duration', () => {
    const r = run(app, '--kill-timeout', 'soon');
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--kill-timeout must be a duration/);
  });

  it('--help and --version exit 0', () => {
    const help = run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: supervise/);
    const version = run('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('help into a reader that went away (`supervise --help | head -1`): exit 0, no stack trace', async () => {
    for (const args of [['--help'], ['status', '--help']]) {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: { ...process.env, NODE_OPTIONS: `--require ${fixture('cli/wait-stdin.cjs')}` },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      trackPid(child.pid);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
      });
      // The reader goes away first; then the fixture lets the CLI run and write its help.
      child.stdout.once('close', () => child.stdin.end('x'));
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(0);
      expect(stderr).not.toMatch(/\n\s+at |Unhandled/);
    }
  });
});
