/**
 * Whether a process exists. EPERM means it does, under another user: for a pid file or a control socket, a
 * process we may not signal is still a master we must not take the place of.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
