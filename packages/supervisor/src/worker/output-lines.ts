import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

const TAIL_LINES = 20;

/**
 * A worker's output, line by line: passed on as it comes (or held back, see hold()), and its last lines kept for
 * a crash report.
 */
export class OutputLines {
  private readonly tail: string[] = [];
  /** Lines held back while a hold is on. */
  private held: [OutputStream, string][] | null = null;

  constructor(private readonly onLine: (stream: OutputStream, line: string) => void) {}

  /** The last lines printed (both streams). */
  get last(): string[] {
    return [...this.tail];
  }

  /**
   * Holds the output back instead of passing it on: for a worker started after a boot failure, whose output is
   * the same stack again if it fails the same way. release() or discard() ends the hold.
   */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [stream, line] of held) this.onLine(stream, line);
  }

  discard(): void {
    this.held = null;
  }

  pipe(stream: Readable | null | undefined, name: OutputStream): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(name, line);
    });
    stream.on('end', () => {
      if (partial) this.line(name, partial);
      partial = '';
    });
  }

  private line(stream: OutputStream, line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (this.held) this.held.push([stream, line]);
    else this.onLine(stream, line);
  }
}
