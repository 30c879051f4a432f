import { trackListeners } from '../accept/listeners.js';
import { startOperations } from './ops.js';
import type { Supervisor } from './supervisor.js';
import { enableUpgrade } from './upgrade/upgrade.js';
import { UPGRADE_FROM_ENV } from './upgrade/messages.js';

/**
 * The CLI's master from options to serving: its listening sockets tracked (for a later upgrade), its operator
 * edges (control socket, pid file, health, systemd), its workers. A master started by `supervise upgrade`
 * boots its workers on the sockets it inherited first, and takes the control socket and the pid file only once
 * the old master has let go of them.
 */
export async function bootMaster(supervisor: Supervisor): Promise<void> {
  trackListeners();
  const handover = process.env[UPGRADE_FROM_ENV]
    ? (await import('./upgrade/handover.js')).upgradeHandover(supervisor)
    : null;
  if (!handover) {
    const ops = await startOperations(supervisor, { defaultControl: true });
    await supervisor.start();
    ops.started();
    enableUpgrade({ supervisor, release: () => ops.release() });
    return;
  }
  supervisor.log.info(
    { event: 'upgrade.adopting', from: handover.from },
    `upgrade: taking over from master ${handover.from}`,
  );
  await supervisor.start();
  await handover.ready();
  const ops = await startOperations(supervisor, { defaultControl: true });
  ops.started();
  handover.operating();
  enableUpgrade({ supervisor, release: () => ops.release() });
}
