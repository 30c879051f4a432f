import { writeOut } from '../../observe/stdio.js';
import type { StatusReply } from '../../control/reply.js';
import { SuperviseError } from '../../errors.js';
import { formatTop } from './top-view.js';

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[?25l';
const ALT_SCREEN_OFF = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';

/**
 * `supervise top`: the workers, refreshed every interval, in a terminal of its own (the alternate screen, as
 * top and htop use, so the shell's screen comes back as it was). q or Ctrl+C leaves. Without a terminal it
 * prints one screen and exits, for a pipe or a script.
 */
export async function runTop(fetchStatus: () => Promise<StatusReply>, intervalMs: number): Promise<void> {
  if (!process.stdout.isTTY) {
    writeOut(1, `${formatTop(await fetchStatus())}\n`);
    return;
  }
  const stdin = process.stdin;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let done: (err?: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    done = (err?: unknown) => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      writeOut(1, ALT_SCREEN_OFF);
      if (err) reject(err);
      else resolve();
    };
  });
  writeOut(1, ALT_SCREEN_ON);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.on('data', (key: string) => {
    // q, Q, Ctrl+C, Ctrl+D, Esc.
    if (/^(q|Q|\u0003|\u0004|\u001b)$/.test(key)) done();
  });
  stdin.resume();
  process.once('SIGTERM', () => done());
  process.once('SIGHUP', () => done());

  const draw = async () => {
    try {
      const status = await fetchStatus();
      if (!stopped) writeOut(1, `${HOME_CLEAR}${formatTop(status)}`);
    } catch (err) {
      done(err instanceof SuperviseError ? new SuperviseError('ERR_CONTROL', err.message) : err);
    }
  };
  process.stdout.on('resize', () => void draw());
  const tick = async () => {
    await draw();
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  await finished;
}
