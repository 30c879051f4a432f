import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

import { IMPORT_HOOK } from './import-esm.js';
import { nodeModule } from './node-module.js';

/**
 * The CLI's bundle, compiled with V8's code cache. Compiling the bundle is most of what every
 * supervise command spends before its own code runs; `pnpm build` writes the bytecode of its start
 * (scripts/code-cache.mjs) next to it, and the bin hands that to V8 rather than compiling again.
 *
 * V8 does not check a code cache against tampering, only against its version, its flags and the source's length:
 * a cache is code. It is used only when it sits beside the bundle, has the bundle's owner, cannot be written by
 * anyone else (so whoever could change it could change the bundle too), and records the size and mtime of the
 * very bundle it was made from, by this node. Anything else, or a cache V8 rejects (another node, other V8
 * flags), and the bundle is compiled as before.
 */

/**
 * The V8 flags the bin sets before it compiles the bundle. The build makes the code cache under the same ones
 * (scripts/code-cache.mjs): V8 takes a cache only under the flags it was made with.
 * - `--no-opt`: V8's optimizing compiler (TurboFan) is the largest part of what an idle master costs over a bare
 *   node; cli/v8-flags.ts says why, and when a master turns it back on.
 * - The memory reducer's first look, 1 s instead of 8 s: V8 gives back the heap a start grew (the young
 *   generation, pages of the old one) when it looks, and an idle master held about 2 MB more for its first ten
 *   seconds, which a deploy measures.
 * - Bytecode flushed once a function has not run through one full collection (V8's default: five or six):
 *   most of a master's code runs once, at its start (option tables, parsing, module set-up), and its bytecode
 *   then stayed for the master's life. A function flushed and needed again is compiled again from the source V8
 *   keeps, at its next call.
 * - `--optimize-for-size`: otherwise the memory reducer trims only a process it finds idle, judged by its
 *   allocation rate over the last seconds, which at 1 s still counts the start, and then waits 8 s more: it
 *   trimmed a master 1 s after its start in some runs and 9 s later in others. Optimizing for size, it trims
 *   when it looks. A master whose code runs for every connection turns it off with the optimizing compiler
 *   (cli/v8-flags.ts).
 */
export const BIN_V8_FLAGS: readonly string[] = [
  '--no-opt',
  '--gc-memory-reducer-start-delay-ms=1000',
  '--bytecode-old-age=1',
  '--optimize-for-size',
];

export function setBinFlags(): void {
  for (const flag of BIN_V8_FLAGS) setFlagsFromString(flag);
}

/**
 * node's own modules that a master's start loads (node:cluster brings child_process, dgram and its internals with
 * it). node compiles its modules from a code cache built into the binary, and V8 takes that cache only under the
 * flags it was made with: loaded after BIN_V8_FLAGS, each was compiled from its source, about a tenth of the
 * master's CPU up to ready. A run loads them before the flags (cli.ts); a command needs none of them.
 */
export const RUN_BUILTINS = ['node:cluster', 'node:net', 'node:tty', 'node:diagnostics_channel'] as const;

export function loadRunBuiltins(): void {
  for (const id of RUN_BUILTINS) process.getBuiltinModule(id);
}

/** 'node': node's own compile cache, in this user's private directory (see privateCompileCache). */
export type CacheUse = 'accepted' | 'rejected' | 'none' | 'node';

export interface LoadedBundle {
  readonly exports: unknown;
  /** Whether V8 took the cache: 'none' when there was no usable cache file. */
  readonly cache: CacheUse;
  /** The bytecode of every function compiled so far, for the build to write. */
  produce(): Buffer;
}

/**
 * The bundle's first and last lines (scripts/bundle.mjs writes them around the bundled code). Run as a script by
 * loadBundle, which sets BY_SCRIPT meanwhile, the file evaluates to its module function, which loadBundle calls
 * with the five names node gives a module; required, it calls that function itself. Either way V8 holds one copy
 * of the source: wrapping the source at load made a second copy of it, garbage that stayed resident
 * until V8's next full collection.
 */
const BY_SCRIPT = 'supervise.bundle.byScript';
export const BUNDLE_HEAD = `(function (body) { return globalThis[Symbol.for('${BY_SCRIPT}')] === true ? body : body.call(exports, exports, require, module, __filename, __dirname); })(function (exports, require, module, __filename, __dirname) {`;
export const BUNDLE_TAIL = '\n});\n';

export const cacheFileOf = (bundle: string): string => `${bundle}.cache`;

interface CacheHeader {
  size: number;
  mtimeMs: number;
  /** The node that made it: V8 rejects a cache of another version anyway; this spares reading it. */
  node: string;
}

/** Header line (the bundle it was made from), then V8's data. */
export function writeCodeCache(bundle: string, data: Buffer): void {
  const st = statSync(bundle);
  const header: CacheHeader = { size: st.size, mtimeMs: st.mtimeMs, node: process.version };
  writeFileSync(cacheFileOf(bundle), Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]), {
    mode: 0o644,
  });
}

/** The cache's data when it may be trusted and belongs to this very bundle; else undefined. */
export function trustedCache(bundle: string, bundleStat: Stats): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(cacheFileOf(bundle), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== bundleStat.uid || (st.mode & 0o022) !== 0) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, data, read, st.size - read, read);
      if (n === 0) return undefined;
      read += n;
    }
    const eol = data.indexOf(10);
    if (eol < 0) return undefined;
    const header = JSON.parse(data.subarray(0, eol).toString('utf8')) as Partial<CacheHeader>;
    if (header.size !== bundleStat.size || header.mtimeMs !== bundleStat.mtimeMs) return undefined;
    if (header.node !== process.version) return undefined;
    return data.subarray(eol + 1);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A require() for the bundle's file. As the CommonJS bin, this module's `module` is node's Module, whose
 * createRequire is node:module's without loading node:module (node-module.ts says why that matters).
 */
function requireFor(file: string): NodeJS.Require {
  const own =
    typeof module === 'object' && module !== null
      ? (module.constructor as { createRequire?: (file: string) => NodeJS.Require }).createRequire
      : undefined;
  return typeof own === 'function' ? own(file) : nodeModule().createRequire(file);
}

/**
 * Loads the CommonJS bundle (BUNDLE_HEAD's form) as node would require it, with its code cache when there is
 * a trusted one. `compileCache` false: never node's own (it stays on for the whole process once enabled).
 */
export function loadBundle(bundle: string, { compileCache = true }: { compileCache?: boolean } = {}): LoadedBundle {
  const file = path.resolve(bundle);
  const bundleStat = statSync(file);
  const cachedData = trustedCache(file, bundleStat);
  // node maps the stacks of required files only: with --enable-source-maps the bundle is required, as before.
  // Without a cache of this node's, node's own compile cache when it has one (Node 22.1 and later).
  if (process.sourceMapsEnabled || (cachedData === undefined && compileCache && privateCompileCache())) {
    return {
      exports: requireFor(file)(file) as unknown,
      cache: process.sourceMapsEnabled ? 'none' : 'node',
      produce: () => {
        throw new Error('no code cache of a required bundle');
      },
    };
  }
  const source = readFileSync(file, 'utf8');
  if (!source.startsWith(BUNDLE_HEAD))
    throw new Error(`${file} is not a supervise bundle (scripts/bundle.mjs writes one)`);
  const script = new vm.Script(source, { filename: file, cachedData });
  const global = globalThis as Record<symbol, unknown>;
  // The bundle's import() (an ESM config file, chokidar) goes through this module's: see import-esm.ts.
  global[IMPORT_HOOK] = (specifier: string) => import(specifier);
  const flag = Symbol.for(BY_SCRIPT);
  global[flag] = true;
  let wrapper: (...args: unknown[]) => void;
  try {
    wrapper = script.runInThisContext() as typeof wrapper;
  } finally {
    delete global[flag];
  }
  // The bundle's own `module` (not this file's, which requireFor reads).
  const bundleModule = { exports: {} as unknown, id: file, filename: file, loaded: false };
  wrapper.call(bundleModule.exports, bundleModule.exports, requireFor(file), bundleModule, file, path.dirname(file));
  bundleModule.loaded = true;
  return {
    exports: bundleModule.exports,
    cache: cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted',
    produce: () => script.createCachedData(),
  };
}

/**
 * A package installed from a registry was built by another node than the one that runs it, whose V8 rejects the
 * build's cache. Node 22.1 and later keep their own compile cache (checked against the source's content), written
 * at exit; here it lives in this user's private directory beside the control sockets, used only when that
 * directory and the cache's own are this user's and closed to everyone else: whoever can write a cache runs code
 * in every later supervise. Returns whether it is on.
 */
export function privateCompileCache(env: NodeJS.ProcessEnv = process.env): boolean {
  // Asked before node:module is loaded for it: an older node (Node 20 running an installed package) has none.
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 1)) return false;
  const enable = (nodeModule() as { enableCompileCache?: (dir: string) => { status: number } }).enableCompileCache;
  if (typeof enable !== 'function' || typeof process.getuid !== 'function') return false;
  const me = process.getuid();
  // control/paths.ts's controlDir(), written out: the bin loads nothing but this module before the bundle.
  const root = env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, 'supervise')
    : path.join(os.tmpdir(), `supervise-${me}`);
  const dir = path.join(root, 'compile-cache');
  try {
    for (const d of [root, dir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      const st = lstatSync(d);
      if (!st.isDirectory() || st.uid !== me || (st.mode & 0o077) !== 0) return false;
    }
    // 1: enabled; 2: already enabled (NODE_COMPILE_CACHE, the user's own choice), both fine.
    const { status } = enable(dir);
    return status === 1 || status === 2;
  } catch {
    return false;
  }
}
