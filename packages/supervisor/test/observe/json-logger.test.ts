import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { jsonLogger, type Logger } from '../../src/observe/json-logger.js';

const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');

/** The master's pino settings before json-logger (level, base pid, ISO time), writing into an array. */
function pinoLines(level: 'info' | 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => lines.push(line) },
  );
  return { log, lines };
}

function ownLines(level: 'info' | 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: jsonLogger(level, (line) => lines.push(line)), lines };
}

/** A line without its time, which differs between two calls. */
const timeless = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"');

describe('jsonLogger', () => {
  it('writes what pino wrote with the master settings: same keys, same order, same values', () => {
    const calls = (log: Logger) => {
      log.info({ event: 'worker.fork', slot: 0, pid: 42, skipped: undefined }, 'worker 42 forked');
      log.warn({ event: 'x', nested: { a: [1, 'two', null] }, text: 'quote " and \n newline' }, 'a "quoted"\nmessage');
      log.error('a message alone');
      log.fatal({ event: 'only.fields' });
      log.debug({ event: 'filtered' }, 'below the level');
      log.info({}, 'empty fields');
    };
    const a = pinoLines('info');
    const b = ownLines('info');
    calls(a.log);
    calls(b.log);
    expect(b.lines.map(timeless)).toEqual(a.lines.map(timeless));
    expect(b.lines).toHaveLength(5);
    expect(JSON.parse(b.lines[0] as string).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('takes a new level at once, and refuses an unknown one', () => {
    const { log, lines } = ownLines('info');
    log.debug({ event: 'a' }, 'hidden');
    log.level = 'debug';
    log.debug({ event: 'b' }, 'shown');
    log.level = 'silent';
    log.fatal({ event: 'c' }, 'hidden too');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
    expect(log.level).toBe('silent');
    expect(() => {
      log.level = 'loud';
    }).toThrow(/unknown log level/);
  });

  it('writes a line for fields JSON.stringify refuses (a cycle, a BigInt)', () => {
    const { log, lines } = ownLines('info');
    const cyclic: Record<string, unknown> = { event: 'cycle', n: 10n };
    cyclic.self = cyclic;
    log.info(cyclic, 'still logged');
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      event: 'cycle',
      n: '10',
      self: '[Circular]',
      msg: 'still logged',
    });
  });
});
