/**
 * What the old and the new master say to each other during `supervise upgrade`, over the IPC channel the old
 * one opens at the new one's fd 3 (spawn's 'ipc' slot: node names it in NODE_CHANNEL_FD and takes it out of
 * the environment). In order: ready (new: every worker is ready on the inherited sockets), released (old: it
 * accepts no more connections, its control socket and pid file are gone), operating (new: its control socket,
 * pid file and health endpoint are up). Or failed (new: why, in one line), after which it exits.
 */
export type NewMasterMessage =
  | { upgrade: 'ready'; pid: number; node: string }
  | { upgrade: 'operating' }
  | { upgrade: 'failed'; error: string };

export type OldMasterMessage = { upgrade: 'released' };

/** The environment variable that tells a master it was started by an upgrade: the old master's pid. */
export const UPGRADE_FROM_ENV = 'SUPERVISE_UPGRADE_FROM';

/**
 * A master started by an upgrade that fails before it boots (a config file that no longer parses, a bad flag)
 * tells the old master why, so that `supervise upgrade` prints the cause. A small message on a pipe is written
 * at once, before the exit that follows.
 */
export function reportUpgradeFailure(error: string): void {
  if (!process.env[UPGRADE_FROM_ENV] || !process.send || !process.connected) return;
  try {
    process.send({ upgrade: 'failed', error } satisfies NewMasterMessage);
  } catch {
    // the old master is gone: nobody to tell
  }
}

export function isNewMasterMessage(m: unknown): m is NewMasterMessage {
  if (typeof m !== 'object' || m === null) return false;
  const u = (m as { upgrade?: unknown }).upgrade;
  return u === 'ready' || u === 'operating' || u === 'failed';
}
