/**
 * Whether a process exists. EPERM means it does, under another user: for a pid file or a control socket, a
 * process we may not signal is still a master we must not take the place of. Only a positive integer names one
 * process: kill(0, 0) probes our own group and kill(-1, 0) every process (it succeeds for root), so neither
 * says anything about a pid.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
