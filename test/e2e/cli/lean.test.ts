import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import module_, { createRequire, isBuiltin, SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { until } from '../../helpers/http.js';

import {
  CLI,
  example,
  fixture,
  freePort,
  killAll,
  ROOT,
  runCli,
  supervise,
  tempDir,
  trackPid,
  waitGone,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

/** The node built-in modules a supervise process loaded, read from the preload's file once it has exited. */
function probe(): { env: Record<string, string>; loaded: () => string[] } {
  const out = path.join(tempDir('supervise-lean-'), 'loaded.txt');
  return {
    env: { NODE_OPTIONS: `--require ${fixture('cli/loaded-builtins.cjs')}`, LOADED_OUT: out },
    loaded: () => readFileSync(out, 'utf8').trim().split('\n'),
  };
}

/** The bundles (dist/bundle/*.cjs) a process read, in order, from the probe's list. */
const bundlesOf = (loaded: string[]): string[] =>
  loaded.filter((l) => l.startsWith('bundle:')).map((l) => l.slice('bundle:'.length));

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

  it("a run loads the master's bundle only, and a command the full CLI only", async () => {
    const file = example('http-basic/server.js');
    expect(bundlesOf(await masterLoads([]))).toEqual(['master.cjs']);
    // A run from a config file, no script on the command line.
    const dir = tempDir('supervise-lean-config-');
    writeFileSync(path.join(dir, 'supervise.config.json'), JSON.stringify({ script: file, workers: 1 }));
    const p = probe();
    const s = supervise([], { cwd: dir, env: { ...p.env, PORT: String(await freePort()), HOST: '127.0.0.1' } });
    await s.ready();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(bundlesOf(p.loaded())).toEqual(['master.cjs']);
    const cases: [string[], number, string[]][] = [
      [['status', '--control', '/nonexistent/supervise.sock'], 5, ['cli.cjs']],
      [['systemd', file, '-w', '2'], 0, ['cli.cjs']],
      [[file, '--help'], 0, ['cli.cjs']],
      [['--version'], 0, ['master.cjs']],
      // Taken for a run's script, and suggested as the command it is one letter from, as the full CLI does.
      [['stauts'], 2, ['master.cjs']],
    ];
    for (const [args, code, bundles] of cases) {
      const p = probe();
      const r = await runCli(args, { env: p.env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(bundlesOf(p.loaded()), args.join(' ')).toEqual(bundles);
      if (args[0] === 'systemd') expect(r.stdout).toMatch(/^ExecStart=.*server\.js -w 2$/m);
      if (args[0] === 'stauts') expect(r.stderr).toMatch(/unknown command "stauts" \(did you mean status\?\)/);
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

  it("a run loads the node modules its start needs before the bin's V8 flags, which would have V8 refuse node's code cache for them", async () => {
    const loaded = await masterLoads([]);
    const flags = loaded.indexOf('v8-flags');
    expect(flags, loaded.join(' ')).toBeGreaterThan(-1);
    const after = loaded.slice(flags + 1);
    // Compiled from their source after the flags: about a tenth of the master's CPU up to ready (code-cache.ts).
    for (const m of ['cluster', 'child_process', 'net', 'dgram', 'tty', 'diagnostics_channel'])
      expect(after, `${m} after the flags`).not.toContain(m);
  });

  it("a JSON-logging master loads neither node's ES module loader nor fs/promises, and starts no libuv threads", async () => {
    // An ES module bin is read by node's ES module loader with fs/promises: that module and libuv's four threads
    // (stacks, malloc arenas) then stayed in the master for its whole life. The bin is CommonJS (dist/cli.cjs).
    const p = probe();
    const s = supervise([example('http-basic/server.js'), '-w', '1'], {
      env: { ...p.env, PORT: String(await freePort()), HOST: '127.0.0.1' },
    });
    await s.ready();
    const threads = (pid: number) => readdirSync(`/proc/${pid}/task`).length;
    const idle = spawn(process.execPath, ['-e', "process.stdout.write('up'); setInterval(() => {}, 1000)"], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    trackPid(idle.pid);
    // A bare node's threads (its main thread and V8's platform threads), read once it runs JavaScript.
    await new Promise((resolve, reject) => {
      idle.stdout.once('data', resolve);
      idle.once('exit', () => reject(new Error('the idle node exited')));
    });
    expect(threads(s.pid)).toBeLessThanOrEqual(threads(idle.pid as number));
    idle.kill('SIGKILL');
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    const loaded = p.loaded();
    // Against what a bare node loads by itself (Node 24 loads its ES module loader's reader at every start).
    const bare = probe();
    expect(
      spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, ...bare.env }, timeout: 20_000 }).status,
    ).toBe(0);
    const own = (m: string) => !bare.loaded().includes(m);
    // The ES module loader's reader and fs/promises; the preload's copy is removed without node's rimraf
    // (worker/preload-copy.ts).
    for (const m of ['internal/modules/esm/load', 'internal/fs/promises', 'internal/fs/rimraf'].filter(own))
      expect(loaded, m).not.toContain(m);
  });

  it('a worker of a plain http app preloads the engine from one file, without TLS or the inspector', async () => {
    const out = path.join(tempDir('supervise-lean-worker-'), 'loaded.json');
    const s = supervise([fixture('cli/heavy-builtins-app.cjs'), '-w', '1'], {
      env: { PORT: String(await freePort()), HOST: '127.0.0.1', APP_LOADED_OUT: out },
    });
    await s.ready();
    // Written once the app listens, that is once the engine has tracked its server.
    const loaded = await until(() => readFileSync(out, 'utf8'), 10_000, "the app's list of loaded modules");
    expect(JSON.parse(loaded)).toEqual([]);
    // The engine it preloads is one file (the master's private copy of dist/bundle/worker-preload.cjs).
    const worker = s.events('worker.fork')[0]?.pid as number;
    const argv = readFileSync(`/proc/${worker}/cmdline`, 'utf8').split('\0');
    const preload = argv[argv.indexOf('--require') + 1] as string;
    expect(path.basename(preload)).toBe('worker-preload.cjs');
    expect(readdirSync(path.dirname(preload))).toEqual(['worker-preload.cjs']);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('the bundles require only node built-ins and their externals, which resolve from them; --version is the package version', async () => {
    for (const name of ['cli', 'master']) {
      const bundle = path.join(ROOT, `packages/supervisor/dist/bundle/${name}.cjs`);
      const source = readFileSync(bundle, 'utf8');
      const loaded = [...source.matchAll(/\b(?:require|import|importEsm)\("([^"]+)"\)/g)].map((m) => m[1] as string);
      const packages = [...new Set(loaded.filter((id) => !isBuiltin(id)))].sort();
      // Besides node's built-ins, only the three dependencies left out of the file on purpose (a terminal, a
      // health port, --watch), resolved at run time from the bundle's folder, and pino's own bundle beside it.
      // Nothing else relative, which would be a module esbuild did not take in, looked for beside the bundle, one
      // folder below where tsc put it.
      // The master's also requires the files of its option-only code (scripts/bundle.mjs's OPTION_FILES).
      const own = name === 'master' ? ['./master-health.cjs', './master-metrics.cjs', './master-sticky.cjs'] : [];
      expect(
        packages.filter((id) => id.startsWith('.') || id.startsWith('/')),
        name,
      ).toEqual([...own, './pino.cjs']);
      // prom-client, for the master, from its metrics file (checked below).
      const metrics = name === 'cli' ? ['prom-client'] : [];
      expect(packages, name).toEqual([...own, './pino.cjs', 'chokidar', 'pino-pretty', ...metrics]);
      const from = createRequire(bundle);
      for (const id of packages) expect(() => from.resolve(id), id).not.toThrow();
      // The master's has the run and none of the commands' code (cli/master-main.ts).
      const commands = [
        'function sendAndPrintNow(',
        'function printSystemdUnits(',
        'function showConfig(',
        'function runTop(',
      ];
      for (const code of commands) expect(source.includes(code), `${name}: ${code}`).toBe(name === 'cli');
      expect(source, name).toContain('function runSupervisor(');
      // Nor the code only an option loads at the start: it is in the files beside it.
      const optional: [string, string][] = [
        ['function serveHealth(', 'master-health.cjs'],
        ['MasterMetrics=class{', 'master-metrics.cjs'],
        ['function createSticky(', 'master-sticky.cjs'],
      ];
      for (const [code, file] of optional) {
        expect(source.includes(code), `${name}: ${code}`).toBe(name === 'cli');
        const beside = readFileSync(path.join(path.dirname(bundle), file), 'utf8');
        expect(beside, file).toContain(code);
        const required = [...beside.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] as string);
        const others = [...new Set(required.filter((id) => !isBuiltin(id)))];
        expect(others, file).toEqual(file === 'master-metrics.cjs' ? ['prom-client'] : []);
        for (const id of others)
          expect(() => createRequire(path.join(path.dirname(bundle), file)).resolve(id)).not.toThrow();
      }
    }
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'packages/supervisor/package.json'), 'utf8')) as {
      version: string;
    };
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("the bundles' source maps lead their functions back to their lines in src (the build renames local names)", () => {
    const functions = [
      ['cli', 'printSystemdUnits', 'src/cli/systemd-command.ts'],
      ['cli', 'loadConfigFile', 'src/config/config-file.ts'],
      ['master', 'isRun', 'src/cli/plain-run.ts'],
      ['master', 'serveControl', 'src/control/server.ts'],
    ] as const;
    for (const [bundleName, name, file] of functions) {
      const bundle = path.join(ROOT, `packages/supervisor/dist/bundle/${bundleName}.cjs`);
      const code = readFileSync(bundle, 'utf8');
      const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
      const at = code.indexOf(`function ${name}(`);
      expect(at, name).toBeGreaterThan(0);
      const before = code.slice(0, at);
      const entry = map.findEntry(before.split('\n').length - 1, at - before.lastIndexOf('\n') - 1) as {
        originalSource?: string;
        originalLine?: number;
      };
      const source = entry.originalSource ?? '';
      // A path relative to the map, or a file URL (as a node may give it).
      expect(source.startsWith('file:') ? fileURLToPath(source) : path.resolve(path.dirname(bundle), source)).toBe(
        path.join(ROOT, 'packages/supervisor', file),
      );
      const line = readFileSync(path.join(ROOT, 'packages/supervisor', file), 'utf8').split('\n')[
        entry.originalLine ?? -1
      ];
      expect(line, name).toMatch(new RegExp(`function ${name}\\(`));
    }
  });

  it('the bin loads each bundle with the code cache the build wrote, when this node made it', async () => {
    for (const name of ['cli', 'master']) {
      const bundle = path.join(ROOT, `packages/supervisor/dist/bundle/${name}.cjs`);
      const header = JSON.parse(readFileSync(`${bundle}.cache`, 'utf8').split('\n')[0] as string) as { node: string };
      // The bin's own steps: its V8 flags first (V8 takes a cache only under the flags it was made with).
      const probe = [
        `const { loadBundle, setBinFlags } = await import(${JSON.stringify(path.join(ROOT, 'packages/supervisor/dist/code-cache.js'))});`,
        'setBinFlags();',
        `console.log(loadBundle(${JSON.stringify(bundle)}).cache);`,
      ].join('\n');
      const env = { ...process.env, XDG_RUNTIME_DIR: tempDir('supervise-lean-cache-') };
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
        encoding: 'utf8',
        timeout: 20_000,
        env,
      });
      expect(r.stderr).toBe('');
      // Another node (the suite's Node 24 run of a build made by Node 20) uses node's own compile cache where
      // there is one, else compiles the bundle as without a cache.
      const other =
        typeof (module_ as { enableCompileCache?: unknown }).enableCompileCache === 'function' ? 'node' : 'none';
      expect(r.stdout.trim(), name).toBe(header.node === process.version ? 'accepted' : other);
      // node maps the stacks of required files only: with --enable-source-maps the bundle is required.
      const mapped = spawnSync(
        process.execPath,
        [
          '--enable-source-maps',
          '--input-type=module',
          '-e',
          `${probe}\nconsole.log(Boolean((await import('node:module')).findSourceMap(${JSON.stringify(bundle)})));`,
        ],
        { encoding: 'utf8', timeout: 20_000, env },
      );
      expect(mapped.stdout.trim().split('\n')).toEqual(['none', 'true']);
    }
  });

  it("without a cache of this node's, node's own compile cache, in the user's private directory only", async (ctx) => {
    if (typeof (module_ as { enableCompileCache?: unknown }).enableCompileCache !== 'function') {
      console.log(`skipped: node ${process.version} has no module.enableCompileCache (Node 22.1 and later)`);
      return ctx.skip();
    }
    const bundle = path.join(ROOT, 'packages/supervisor/dist/bundle/cli.cjs');
    const header = JSON.parse(readFileSync(`${bundle}.cache`, 'utf8').split('\n')[0] as string) as { node: string };
    if (header.node === process.version) {
      console.log(`skipped: the build's own cache is for this node (${process.version})`);
      return ctx.skip();
    }
    const runtime = tempDir('supervise-lean-cc-');
    const cacheDir = path.join(runtime, 'supervise', 'compile-cache');
    expect((await runCli(['--version'], { env: { XDG_RUNTIME_DIR: runtime } })).code).toBe(0);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(cacheDir).length).toBeGreaterThan(0);
    // A directory others may enter is not used: whoever can write a cache runs code in every later supervise.
    const open = tempDir('supervise-lean-cc-open-');
    mkdirSync(path.join(open, 'supervise'), { mode: 0o755 });
    chmodSync(path.join(open, 'supervise'), 0o755);
    expect((await runCli(['--version'], { env: { XDG_RUNTIME_DIR: open } })).code).toBe(0);
    expect(existsSync(path.join(open, 'supervise', 'compile-cache'))).toBe(false);
  });

  it('supervise upgrade starts the new master from the bin (process.argv[1]), not from the bundle', async () => {
    const dir = tempDir('supervise-lean-upgrade-');
    const env = { PORT: String(await freePort()), HOST: '127.0.0.1', XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const s = supervise([example('http-basic/server.js'), '-w', '1'], { cwd: dir, env });
    await s.ready();
    const run = await runCli(['upgrade'], { cwd: dir, env });
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    const to = Number(/master (\d+) \(node/.exec(run.stdout)?.[1]);
    trackPid(to);
    expect((await s.waitEvent('upgrade.start')).cli).toBe(CLI);
    const argv = readFileSync(`/proc/${to}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain(CLI);
    const stop = await runCli(['stop'], { cwd: dir, env });
    expect(stop.code, stop.stderr).toBe(0);
    await waitGone([s.pid, to], 15_000);
  });
});
