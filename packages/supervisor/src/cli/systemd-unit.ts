import type { SupervisorOptions } from '../config/options.js';

/**
 * `supervise systemd`: a unit that runs the same command under systemd, the answer to `pm2 startup` and
 * `pm2 save`. Type=notify (the master reports READY, RELOADING, STOPPING through systemd-notify, hence
 * NotifyAccess=all), reload through SIGHUP, and KillMode=mixed: the stop's SIGTERM goes to the master alone,
 * which drains its workers; systemd's SIGKILL reaches the whole group only past TimeoutStopSec, set above the
 * kill timeout so that a drain is never cut short by systemd.
 */
export interface UnitSpec {
  name: string;
  description: string;
  user: string;
  workingDirectory: string;
  /** The absolute node binary and supervise's CLI, then the arguments as the user gave them. */
  execStart: string[];
  options: Pick<SupervisorOptions, 'killTimeoutMs' | 'readyTimeoutMs'>;
  /** Variables of the current environment the app reads (PORT, NODE_ENV, HOST), carried over. */
  environment: Record<string, string>;
  version: string;
  /** A user unit (systemctl --user): no User=, and wanted by the user's default target. */
  userUnit?: boolean;
}

/** One word of ExecStart, quoted when it must be; `$` and `%` mean something to systemd and are escaped. */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[\w@%+=:,./-]+$/.test(escaped) && escaped !== '') return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function unitName(name: string): string {
  const clean = name.replace(/[^\w:.-]/g, '-').replace(/^-+|-+$/g, '');
  return clean || 'supervise-app';
}

export function renderUnit(spec: UnitSpec): string {
  const stopSec = Math.ceil(spec.options.killTimeoutMs / 1000) + 10;
  const startSec = Math.ceil(spec.options.readyTimeoutMs / 1000) + 30;
  const env = Object.entries(spec.environment).map(([k, v]) => `Environment=${systemdWord(`${k}=${v}`)}`);
  return [
    `# ${unitName(spec.name)}.service, printed by \`supervise systemd\` (supervise ${spec.version})`,
    '[Unit]',
    `Description=${spec.description}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=notify',
    'NotifyAccess=all',
    ...(spec.userUnit ? [] : [`User=${spec.user}`]),
    `WorkingDirectory=${spec.workingDirectory}`,
    ...env,
    `ExecStart=${spec.execStart.map(systemdWord).join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `# Above the kill timeout (${spec.options.killTimeoutMs} ms): the master's own drain always finishes first.`,
    `TimeoutStopSec=${stopSec}`,
    `TimeoutStartSec=${startSec}`,
    'Restart=on-failure',
    'RestartSec=2',
    '',
    '[Install]',
    spec.userUnit ? 'WantedBy=default.target' : 'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
