import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { SuperviseError } from '../errors.js';
import { mergeEnv, noEnvBlock } from './env-select.js';
import { logicalCwd } from './logical-cwd.js';
import { ecosystemApps, isEcosystem, pickApp } from './pm2-ecosystem.js';
import { OPTION_KEYS, OPTIONS } from './option-table.js';
import type { Check } from './option-types.js';
import type { OptionKey, RawOptions } from './options.js';
import { importEsm } from '../import-esm.js';
import { nodeModule } from '../node-module.js';

/**
 * supervise.config.{json,js,mjs}: the CLI's options as an object, keys as in RawOptions plus `script` and
 * `args`. Checked key by key here, so that an error names the key the user wrote in the file; the merged
 * options are then validated as a whole by resolveOptions, like flags.
 */

export const CONFIG_NAMES = ['supervise.config.json', 'supervise.config.js', 'supervise.config.mjs'] as const;

/** The config file's keys and their checks: the option table's (option-table.ts). */
const CHECKS: Record<OptionKey, Check> = Object.fromEntries(OPTION_KEYS.map((k) => [k, OPTIONS[k].check])) as Record<
  OptionKey,
  Check
>;

export const CONFIG_KEYS = Object.keys(CHECKS) as OptionKey[];

export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggest(key: string): string {
  const lower = key.toLowerCase().replace(/[-_]/g, '');
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of CONFIG_KEYS) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best && bestD <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/**
 * Checks a config object and returns it as RawOptions, with relative paths made absolute against `dir` (the
 * file's directory): a config file means the same thing from wherever supervise is started.
 */
export function validateConfig(value: unknown, dir: string): RawOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SuperviseError('ERR_CONFIG', 'must contain an object of options');
  }
  const raw: RawOptions = {};
  for (const [key, v] of Object.entries(value)) {
    const check = (CHECKS as Record<string, Check | undefined>)[key];
    if (!Object.hasOwn(CHECKS, key) || !check) {
      throw new SuperviseError('ERR_CONFIG', `unknown key "${key}"${suggest(key)}`);
    }
    if (v === undefined) continue;
    try {
      check(v, key);
    } catch (err) {
      if (err instanceof SuperviseError) throw new SuperviseError('ERR_CONFIG', err.message);
      throw err;
    }
    raw[key as OptionKey] = v;
  }
  const abs = (p: unknown, base: string) => (typeof p === 'string' ? path.resolve(base, p) : p);
  if (raw.cwd !== undefined) raw.cwd = abs(raw.cwd, dir);
  if (raw.script !== undefined) raw.script = abs(raw.script, (raw.cwd as string | undefined) ?? dir);
  for (const key of ['control', 'pidFile'] as const) if (raw[key] !== undefined) raw[key] = abs(raw[key], dir);
  if (typeof raw.node === 'string' && raw.node.includes('/')) raw.node = path.resolve(dir, raw.node);
  if (typeof raw.envFile === 'string' || Array.isArray(raw.envFile)) {
    raw.envFile = (Array.isArray(raw.envFile) ? raw.envFile : [raw.envFile]).map((p) => path.resolve(dir, String(p)));
  }
  if (typeof raw.watch === 'string' || Array.isArray(raw.watch)) {
    raw.watch = (Array.isArray(raw.watch) ? raw.watch : [raw.watch]).map((p) => path.resolve(dir, String(p)));
  }
  return raw;
}

function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** Finds the config file: the one given, or the one supervise.config.* in `cwd`; null when there is none. */
export function findConfigFile(explicit: string | undefined, cwd = logicalCwd()): string | null {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new SuperviseError('ERR_CONFIG', `--config: no such file: ${file}`);
    return file;
  }
  const found = CONFIG_NAMES.map((n) => path.join(cwd, n)).filter((f) => existsSync(f));
  if (found.length > 1) {
    throw new SuperviseError(
      'ERR_CONFIG',
      `several config files in ${cwd} (${found.map((f) => path.basename(f)).join(', ')}): keep one, or pass --config`,
    );
  }
  return found[0] ?? null;
}

const requireCache = (): NodeJS.Dict<NodeJS.Module> => nodeModule().createRequire(import.meta.url).cache;
let loads = 0;

/** ` at line 3, column 5` from the position in a JSON.parse message (node 20 gives only the offset). */
export function jsonPosition(text: string, message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return ` at line ${lc[1]}, column ${lc[2]}`;
  const pos = /at position (\d+)/.exec(message);
  if (pos) {
    const before = text.slice(0, Number(pos[1]));
    const line = before.split('\n').length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  return /end of JSON input/i.test(message) ? ` at line ${text.split('\n').length} (the end)` : '';
}

/** A PM2 ecosystem file, by its conventional name: `supervise ecosystem.config.js` reads it as the config. */
export function isEcosystemFile(file: string): boolean {
  return /(^|[\\/])ecosystem(\.[\w-]+)?\.config\.(c|m)?js$|(^|[\\/])ecosystem(\.[\w-]+)?\.json$/.test(file);
}

export interface LoadedConfig {
  raw: RawOptions;
  /** What the master logs once at start: the PM2 app read, and the keys it ignored (each with why). */
  notes: string[];
  /** The app's name (PM2 ecosystem files). */
  app: string | null;
  /** Every app of an ecosystem file, by name (one unit each for `supervise systemd`). */
  apps: string[];
}

/**
 * How long a config file may take to load when nothing else bounds it (the first load, before the options and
 * their --ready-timeout are known): a module's top-level await (a secrets fetch) may never settle.
 */
export const CONFIG_LOAD_TIMEOUT_MS = 30_000;

export interface LoadLimits {
  /** `--env production`: the PM2 app's env_production block over its env. */
  envName?: string | null;
  /** A load that has not settled by then fails (the module stays pending: ESM loads cannot be cancelled). */
  timeoutMs?: number;
  /** Gives up at once (a stop began). */
  signal?: AbortSignal;
}

/**
 * Reads and checks a config file (supervise's own, or a PM2 ecosystem file: `app` picks one of its apps); every
 * error is one line that starts with the file's name.
 */
export async function loadConfig(file: string, app?: string, limits: LoadLimits = {}): Promise<LoadedConfig> {
  return inFile(file, async () => {
    const value = await bounded(readConfigValue(file), limits);
    const envName = limits.envName ?? null;
    if (isEcosystem(value)) {
      const apps = ecosystemApps(value, path.dirname(file), envName);
      const picked = pickApp(apps, app);
      const notes = [`PM2 app "${picked.name}"`, ...picked.ignored.map((i) => `ignored ${i}`)];
      return { raw: picked.raw, notes, app: picked.name, apps: apps.map((a) => a.name) };
    }
    if (app !== undefined)
      throw new SuperviseError('ERR_CONFIG', '--app applies to PM2 ecosystem files (a list of apps) only');
    if (envName !== null) throw noEnvBlock(envName, 'this is a supervise config file');
    return { raw: validateConfig(value, path.dirname(file)), notes: [], app: null, apps: [] };
  });
}

/** The apps of a PM2 ecosystem file, none picked (empty for a supervise config). */
export async function ecosystemAppNames(file: string): Promise<string[]> {
  return inFile(file, async () => {
    const value = await readConfigValue(file);
    return isEcosystem(value) ? ecosystemApps(value, path.dirname(file)).map((a) => a.name) : [];
  });
}

/** The file's value: parsed JSON, or a module's export, read anew each time (a reload re-reads the file). */
async function readConfigValue(file: string): Promise<unknown> {
  if (file.endsWith('.json')) return JSON.parse(readFileSync(file, 'utf8'));
  if (!/\.(c|m)?js$/.test(file))
    throw new SuperviseError('ERR_CONFIG', 'config files must end in .json, .js, .cjs or .mjs');
  // Past node's module caches: CJS by file name, ESM by URL.
  delete requireCache()[file];
  const mod = await importEsm<{ default?: unknown }>(`${pathToFileURL(file).href}?v=${++loads}`);
  return mod.default ?? mod;
}

/** Runs `fn`; any error becomes one line that starts with the file's name (JSON errors with line and column). */
async function inFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // A JS file that does not parse: `file:line:column: message`, as a compiler says it.
    if (err instanceof SyntaxError && !file.endsWith('.json')) {
      // Loaded here only: it needs node:child_process, which every command would load with this file.
      const { syntaxPosition } = await import('./syntax-position.js');
      const at = await syntaxPosition(file);
      if (at) throw new SuperviseError('ERR_CONFIG', oneLine(`${at}: syntax error: ${err.message}`));
    }
    const why =
      err instanceof SyntaxError && file.endsWith('.json')
        ? `invalid JSON${jsonPosition(readFileSync(file, 'utf8'), err.message)}: ${err.message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')}`
        : err instanceof Error
          ? err.message
          : String(err);
    throw new SuperviseError('ERR_CONFIG', oneLine(`${path.basename(file)}: ${why}`));
  }
}

export async function loadConfigFile(file: string, app?: string, limits: LoadLimits = {}): Promise<RawOptions> {
  return (await loadConfig(file, app, limits)).raw;
}

/** The file's value, or a one-line error once the bound is over (or the signal aborts). */
function bounded<T>(load: Promise<T>, { timeoutMs = CONFIG_LOAD_TIMEOUT_MS, signal }: LoadLimits): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const fail = (message: string) => done(() => reject(new SuperviseError('ERR_CONFIG', message)));
    const timer = setTimeout(
      () => fail(`did not finish loading within ${timeoutMs} ms (a top-level await that never settles?)`),
      timeoutMs,
    );
    const onAbort = () => fail('loading was abandoned: the master is stopping');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    load.then(
      (value) => done(() => resolve(value)),
      (err: unknown) => done(() => reject(err)),
    );
  });
}

/** The options a run uses: the file's, overridden by the flags the user gave. */
export function mergeOptions(file: RawOptions, flags: RawOptions): RawOptions {
  const merged: RawOptions = { ...file };
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    if (key === 'args' && Array.isArray(value) && value.length === 0 && file.args !== undefined) continue;
    // --env KEY=VALUE adds to the file's env (PM2 users expect its PORT to stay), a key given twice takes the flag's.
    merged[key as OptionKey] = key === 'env' && file.env !== undefined ? mergeEnv(file.env, value) : value;
  }
  return merged;
}
