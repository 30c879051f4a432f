import os from 'node:os';

import { describe, expect, it } from 'vitest';

import { ecosystemApps, memoryMb, pickApp } from '../../src/config/pm2-ecosystem.js';
import { renderUnit, systemdWord, unitName } from '../../src/cli/systemd-unit.js';

describe('PM2 ecosystem files', () => {
  it('maps each key to an option, or names it as ignored with why', () => {
    const [app] = ecosystemApps(
      {
        apps: [
          {
            name: 'api',
            script: 'server.js',
            args: '--port 8080 --title "my app"',
            instances: 'max',
            exec_mode: 'cluster',
            env: { NODE_ENV: 'production', PORT: 3000 },
            env_production: { X: 1 },
            kill_timeout: 5000,
            listen_timeout: 8000,
            max_memory_restart: '300M',
            watch: ['src'],
            ignore_watch: ['node_modules', 'logs'],
            node_args: ['--max-old-space-size=512'],
            cwd: 'app',
            wait_ready: true,
            something_else: 1,
          },
        ],
      },
      '/srv',
    );
    expect(app!.name).toBe('api');
    expect(app!.raw).toEqual({
      script: '/srv/app/server.js',
      args: ['--port', '8080', '--title', 'my app'],
      workers: 'max',
      env: { NODE_ENV: 'production', PORT: '3000' },
      killTimeoutMs: 5000,
      readyTimeoutMs: 8000,
      maxMemoryMb: 300,
      watch: ['/srv/app/src'],
      ignore: ['node_modules', 'logs'],
      nodeArgs: '--max-old-space-size=512',
      cwd: '/srv/app',
    });
    expect(app!.ignored).toEqual([
      'env_production: not selected (--env production selects it)',
      "wait_ready: supervise waits for the app's 'listening' (or the SDK's ready()); process.send('ready') is not read",
      'something_else: not a supervise option',
    ]);
  });

  it('--env production: env_production over env; a block the app lacks is refused', () => {
    const file = { apps: [{ script: 'a.js', env: { A: 1, B: 'env' }, env_production: { B: 'prod' } }] };
    const [app] = ecosystemApps(file, '/x', 'production');
    expect(app!.raw.env).toEqual({ A: '1', B: 'prod' });
    expect(app!.ignored).toEqual([]);
    expect(() => ecosystemApps(file, '/x', 'staging')).toThrow(/env_staging .* only env_production/);
  });

  it('instances: 0 and "max" are every core, -1 all but one; fork mode is named', () => {
    const apps = ecosystemApps(
      {
        apps: [
          { script: 'a.js', instances: 0 },
          { script: 'b.js', instances: -1, exec_mode: 'fork' },
        ],
      },
      '/x',
    );
    expect(apps[0]!.raw.workers).toBe('max');
    expect(apps[1]!.raw.workers).toBe(Math.max(1, os.availableParallelism() - 1));
    expect(apps[1]!.ignored).toEqual(['exec_mode fork: supervise always runs node:cluster workers']);
    expect(apps.map((a) => a.name)).toEqual(['a', 'b']);
  });

  it('out_file, error_file and log_file become the one --log-file: log_file, else out_file, else error_file', () => {
    const [all, outErr, errOnly, off] = ecosystemApps(
      {
        apps: [
          { script: 'a.js', log_file: 'logs/all.log', out_file: 'logs/out.log', error_file: 'logs/err.log' },
          { script: 'b.js', out_file: '/var/log/out.log', error_file: '/var/log/err.log' },
          { script: 'c.js', error_file: 'err.log' },
          { script: 'd.js', out_file: '/dev/null', error_file: '/dev/null' },
        ],
      },
      '/srv',
    );
    expect(all!.raw.logFile).toBe('/srv/logs/all.log');
    expect(all!.ignored.map((l) => l.split(':')[0])).toEqual(['out_file', 'error_file']);
    expect(outErr!.raw.logFile).toBe('/var/log/out.log');
    expect(outErr!.ignored).toEqual([
      'error_file: supervise writes one --log-file (taken from log_file, else out_file); stderr lines are in it, marked "stream":"stderr"',
    ]);
    expect(errOnly!.raw.logFile).toBe('/srv/err.log');
    expect(errOnly!.ignored).toEqual([]);
    expect(off!.raw.logFile).toBeUndefined();
    expect(off!.ignored).toEqual([]);
  });

  it('sizes as PM2 reads them', () => {
    expect(memoryMb('300M')).toBe(300);
    expect(memoryMb('1G')).toBe(1024);
    expect(memoryMb('512K')).toBe(1);
    expect(memoryMb(200 * 1024 * 1024)).toBe(200);
    expect(() => memoryMb('lots')).toThrow(/max_memory_restart: expected a size such as 300M or 1G/);
  });

  it('one master per app: several need --app', () => {
    const apps = ecosystemApps(
      {
        apps: [
          { name: 'api', script: 'a.js' },
          { name: 'jobs', script: 'b.js' },
        ],
      },
      '/x',
    );
    expect(() => pickApp(apps, undefined)).toThrow(
      'apps: 2 apps (api, jobs): supervise runs one master per app; pick one with --app <name>',
    );
    expect(pickApp(apps, 'jobs').name).toBe('jobs');
    expect(() => pickApp(apps, 'web')).toThrow('--app: no app named "web" (the file has api, jobs)');
    expect(() => ecosystemApps({ apps: [{ name: 'x' }] }, '/x')).toThrow('apps[0].script: every app needs a script');
  });
});

describe('systemd unit', () => {
  it('quotes and escapes ExecStart words as systemd reads them', () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('GREETING=hello world')).toBe('"GREETING=hello world"');
    expect(systemdWord('$HOME')).toBe('"$$HOME"');
    expect(systemdWord('100%')).toBe('100%%');
    expect(systemdWord('say "hi"')).toBe('"say \\"hi\\""');
    expect(unitName('@scope/my app')).toBe('scope-my-app');
  });

  it('stops above the kill timeout, reloads with SIGHUP, notifies', () => {
    const text = renderUnit({
      name: 'api',
      description: 'api',
      user: 'www',
      workingDirectory: '/srv/api',
      execStart: ['/usr/bin/node', '/opt/supervise/cli.js', 'server.js', '-w', '4'],
      options: { killTimeoutMs: 30_000, readyTimeoutMs: 30_000 },
      environment: { PORT: '3000' },
      version: '0.1.0',
    });
    expect(text).toContain(
      '\nType=notify\nNotifyAccess=all\nUser=www\nWorkingDirectory=/srv/api\nEnvironment=PORT=3000\n',
    );
    expect(text).toContain(
      '\nExecStart=/usr/bin/node /opt/supervise/cli.js server.js -w 4\nExecReload=/bin/kill -HUP $MAINPID\nKillMode=mixed\n',
    );
    expect(text).toContain('\nTimeoutStopSec=40\n');
  });
});
