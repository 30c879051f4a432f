import os from 'node:os';
import path from 'node:path';

import { SuperviseError } from '../errors.js';
import { noEnvBlock } from './env-select.js';
import { splitArgs, type RawOptions } from './options.js';

/**
 * A PM2 ecosystem file (`module.exports = { apps: [{ script, instances, ... }] }`) read as a supervise config:
 * each key of the app is mapped to an option, or named as ignored with the reason. One master runs one app:
 * a file with several picks one with --app.
 */

export interface EcosystemApp {
  /** The app's `name` (or the script's base name): what --app selects and a systemd unit is named after. */
  name: string;
  raw: RawOptions;
  /** One line per key that has no equivalent, with why. */
  ignored: string[];
}

/** Keys PM2 users set often that supervise has no use for, with the reason a migrant wants to read. */
const IGNORED: Record<string, string> = {
  wait_ready: "supervise waits for the app's 'listening' (or the SDK's ready()); process.send('ready') is not read",
  exec_interpreter: 'supervise runs node; for TypeScript give node_args "--import tsx"',
  interpreter: 'supervise runs node; for TypeScript give node_args "--import tsx"',
  autorestart: 'crashed workers are always restarted (with backoff); the master itself is restarted by systemd',
  max_restarts: 'see crashLimit and crashWindowMs',
  min_uptime: 'see stableUptimeMs',
  restart_delay: 'see restartDelayMs',
  exp_backoff_restart_delay: 'crash restarts back off by themselves (restartDelayMs to restartDelayMaxMs)',
  log_date_format: 'the master timestamps every line',
  error_file:
    'supervise writes one --log-file (taken from log_file, else out_file); stderr lines are in it, marked "stream":"stderr"',
  out_file: 'supervise writes one --log-file, taken from log_file: stdout and stderr lines are both in it',
  merge_logs: "the workers' lines are merged, each tagged with its slot and pid",
  combine_logs: "the workers' lines are merged, each tagged with its slot and pid",
  pid_file: "see pidFile (the master's pid)",
  shutdown_with_message: 'the master drains the workers itself',
  increment_var: 'SUPERVISE_SLOT and NODE_APP_INSTANCE number the workers',
  instance_var: 'NODE_APP_INSTANCE is set (the slot)',
  cron_restart: 'use a timer: systemd OnCalendar with ExecStart=supervise reload',
  source_map_support: 'give node_args "--enable-source-maps"',
  vizion: 'no versioning metadata',
  post_update: 'no deploy hooks',
  force: 'one master per app',
  time: 'the master timestamps every line',
};

function bad(key: string, what: string): never {
  throw new SuperviseError('ERR_CONFIG', `${key}: ${what}`);
}

/** `200M`, `1G`, `512K`, or bytes, as PM2 reads max_memory_restart; in MB, rounded up. */
export function memoryMb(value: unknown, key = 'max_memory_restart'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$/i.exec(String(value));
  if (!m) bad(key, `expected a size such as 300M or 1G, got ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const bytes = unit === 'G' ? n * 1024 ** 3 : unit === 'M' ? n * 1024 ** 2 : unit === 'K' ? n * 1024 : n;
  return Math.max(1, Math.ceil(bytes / 1024 ** 2));
}

function instances(value: unknown): number | 'max' {
  if (value === 'max' || value === 0 || value === '0') return 'max';
  const n = Number(value);
  if (!Number.isInteger(n)) bad('instances', `expected a number or "max", got ${JSON.stringify(value)}`);
  // PM2: -1 is "all CPUs but one".
  if (n < 0) return Math.max(1, os.availableParallelism() + n);
  return n;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [String(v)]);

function envObject(key: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) bad(key, 'expected an object of variables');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function mapApp(app: Record<string, unknown>, dir: string, index: number, envName: string | null): EcosystemApp {
  if (typeof app.script !== 'string' || app.script === '') bad(`apps[${index}].script`, 'every app needs a script');
  const raw: RawOptions = {};
  const ignored: string[] = [];
  const cwd = typeof app.cwd === 'string' ? path.resolve(dir, app.cwd) : dir;
  for (const [key, value] of Object.entries(app)) {
    if (value === undefined) continue;
    switch (key) {
      case 'name':
        break;
      case 'script':
        raw.script = path.resolve(cwd, String(value));
        break;
      case 'args':
        raw.args = Array.isArray(value) ? value.map(String) : splitArgs(String(value));
        break;
      case 'instances':
        raw.workers = instances(value);
        break;
      case 'exec_mode':
        if (!/^(cluster|cluster_mode)$/.test(String(value)))
          ignored.push(`exec_mode ${String(value)}: supervise always runs node:cluster workers`);
        break;
      case 'env':
        raw.env = { ...envObject('env', value), ...(raw.env as Record<string, string> | undefined) };
        break;
      case 'kill_timeout':
        raw.killTimeoutMs = value;
        break;
      case 'listen_timeout':
        raw.readyTimeoutMs = value;
        break;
      case 'max_memory_restart':
        raw.maxMemoryMb = memoryMb(value);
        break;
      case 'watch':
        raw.watch = value === true ? true : value === false ? undefined : list(value).map((p) => path.resolve(cwd, p));
        break;
      case 'ignore_watch':
        raw.ignore = list(value);
        break;
      case 'node_args':
      case 'interpreter_args':
        raw.nodeArgs = list(value).join(' ');
        break;
      case 'cwd':
        raw.cwd = cwd;
        break;
      case 'log_file':
      case 'out_file':
      case 'error_file':
        logFile(app, key, value, cwd, raw, ignored);
        break;
      default:
        // As PM2's --env: the chosen block's variables over `env` (applied after the loop, whatever the order).
        if (key.startsWith('env_')) {
          if (key !== `env_${envName}`) ignored.push(`${key}: not selected (--env ${key.slice(4)} selects it)`);
        } else ignored.push(`${key}: ${IGNORED[key] ?? 'not a supervise option'}`);
    }
  }
  if (envName !== null) {
    const key = `env_${envName}`;
    if (!Object.hasOwn(app, key)) {
      const blocks = Object.keys(app).filter((k) => k.startsWith('env_'));
      throw noEnvBlock(envName, `apps[${index}] has ${blocks.length ? `only ${blocks.join(', ')}` : 'no env_ block'}`);
    }
    raw.env = { ...(raw.env as Record<string, string> | undefined), ...envObject(key, app[key]) };
  }
  const name =
    typeof app.name === 'string' && app.name
      ? app.name
      : path.basename(String(app.script)).replace(/\.[cm]?[jt]s$/, '');
  return { name, raw, ignored };
}

/**
 * PM2's three files become supervise's one --log-file: log_file (PM2's combined file), else out_file, else
 * error_file, whichever the app gives first in that order; the others are named as ignored. `/dev/null` or false
 * (PM2's way to turn a file off) leaves the output on stdout.
 */
function logFile(
  app: Record<string, unknown>,
  key: 'log_file' | 'out_file' | 'error_file',
  value: unknown,
  cwd: string,
  raw: RawOptions,
  ignored: string[],
): void {
  const chosen = (['log_file', 'out_file', 'error_file'] as const).find(
    (k) => typeof app[k] === 'string' && app[k] !== '/dev/null',
  );
  if (key === chosen) raw.logFile = path.resolve(cwd, String(value));
  else if (value !== false && value !== '/dev/null') ignored.push(`${key}: ${IGNORED[key] ?? 'see log_file'}`);
}

export function isEcosystem(value: unknown): value is { apps: unknown } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { apps?: unknown }).apps);
}

/** Every app of an ecosystem file, mapped. */
export function ecosystemApps(value: { apps: unknown }, dir: string, envName: string | null = null): EcosystemApp[] {
  const apps = value.apps as unknown[];
  if (apps.length === 0) bad('apps', 'the file lists no app');
  return apps.map((app, i) => {
    if (typeof app !== 'object' || app === null || Array.isArray(app)) bad(`apps[${i}]`, 'expected an object');
    return mapApp(app as Record<string, unknown>, dir, i, envName);
  });
}

/** The one app a master runs: the only one, or the one --app names. */
export function pickApp(apps: EcosystemApp[], wanted: string | undefined): EcosystemApp {
  if (wanted !== undefined) {
    const app = apps.find((a) => a.name === wanted);
    if (!app) bad('--app', `no app named "${wanted}" (the file has ${apps.map((a) => a.name).join(', ')})`);
    return app;
  }
  if (apps.length > 1) {
    bad(
      'apps',
      `${apps.length} apps (${apps.map((a) => a.name).join(', ')}): supervise runs one master per app; pick one with --app <name>`,
    );
  }
  return apps[0]!;
}
