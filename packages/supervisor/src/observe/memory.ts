import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';

/**
 * Resident set size of a process in bytes, or null when it cannot be read (gone, or no /proc and no ps).
 * /proc on Linux costs one small read; elsewhere `ps` is the portable answer. The read is synchronous: /proc
 * answers from the kernel's memory, and an asynchronous read would start libuv's four threads in a master that
 * needs none of them otherwise (their stacks and malloc arenas stay resident for its life).
 */
export async function rssBytes(pid: number): Promise<number | null> {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return new Promise((resolve) => {
      execFile('ps', ['-o', 'rss=', '-p', String(pid)], (err, stdout) => {
        const kb = Number(stdout.trim());
        resolve(err || !Number.isFinite(kb) || kb <= 0 ? null : kb * 1024);
      });
    });
  }
}
