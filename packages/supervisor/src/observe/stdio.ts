import { writeSync } from 'node:fs';

/**
 * The master's own stdout and stderr, written line by line so that losing either never kills the master: a
 * reader that went away (a log shipper restarting, `| tee` hit by Ctrl+C: EPIPE) or a closed terminal (EIO)
 * makes that stream "gone", said once on the other one, and its output is dropped from then on. A reader that
 * merely stalls (a full pipe: EAGAIN) costs the master at most a short wait per line, never the event loop:
 * the master hands connections to the workers, so blocking it would be an outage.
 */
type Fd = 1 | 2;

const NAMES: Record<Fd, string> = { 1: 'stdout', 2: 'stderr' };
const EAGAIN_WAIT_MS = 100;
const state: Record<Fd, { gone: boolean; congested: boolean }> = {
  1: { gone: false, congested: false },
  2: { gone: false, congested: false },
};
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes `text` whole to fd 1 or 2, or drops it (see above). Never throws. */
export function writeOut(fd: Fd, text: string): void {
  const s = state[fd];
  if (s.gone) return;
  let buf = Buffer.from(text);
  let waited = 0;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
      s.congested = false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (code !== 'EAGAIN') return lose(fd, code);
      if (s.congested || waited >= EAGAIN_WAIT_MS) {
        // Still full: drop this line, and do not wait again until a write goes through.
        s.congested = true;
        return;
      }
      Atomics.wait(pause, 0, 0, 5);
      waited += 5;
    }
  }
}

function lose(fd: Fd, code: string): void {
  if (state[fd].gone) return;
  state[fd].gone = true;
  writeOut(fd === 1 ? 2 : 1, `supervise: ${NAMES[fd]} is gone (${code}); its output is dropped from now on\n`);
}

/**
 * For whatever else writes through process.stdout/stderr (a library, console): their errors mark the stream
 * gone instead of surfacing as an uncaught 'error' event. The guard is attached when a stream is first used:
 * node makes process.stdout on first access (a socket for a pipe), and the master's own lines go through
 * writeOut, so a master that nothing else writes from never pays for the two streams.
 */
export function guardStdio(): void {
  for (const [name, fd] of [
    ['stdout', 1],
    ['stderr', 2],
  ] as const) {
    const guard = (stream: NodeJS.WriteStream) =>
      stream.on('error', (err: NodeJS.ErrnoException) => lose(fd, err.code ?? 'error'));
    const own = Object.getOwnPropertyDescriptor(process, name);
    const make = own?.get;
    if (!own?.configurable || !make) {
      guard(process[name]);
      continue;
    }
    let stream: NodeJS.WriteStream | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: own.enumerable ?? true,
      get() {
        if (stream === undefined) stream = guard(make.call(process) as NodeJS.WriteStream);
        return stream;
      },
    });
  }
}
