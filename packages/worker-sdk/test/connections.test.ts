import type { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import {
  closeFrame,
  type Connection,
  idleCloseDelay,
  isEventStream,
  isUpgraded,
  lastUnsent,
} from '../src/drain/connections.js';

describe('idleCloseDelay (the idle rule)', () => {
  it('a socket quiet for longer than the grace closes now', () => {
    expect(idleCloseDelay(0, 5_000, 1_000)).toBe(0);
    expect(idleCloseDelay(1_000, 2_000, 1_000)).toBe(0);
  });

  it('a socket active a moment ago waits out the rest of the grace', () => {
    expect(idleCloseDelay(1_000, 1_200, 1_000)).toBe(800);
    expect(idleCloseDelay(1_000, 1_000.2, 1_000)).toBe(1_000);
  });

  it('rounds up, so a timer never fires before the grace is over', () => {
    expect(idleCloseDelay(0, 999.5, 1_000)).toBe(1);
  });

  it('a grace of 0 closes idle sockets at once', () => {
    expect(idleCloseDelay(1_000, 1_000, 0)).toBe(0);
  });
});

describe('lastUnsent (which pipelined response gets Connection: close)', () => {
  const res = (headersSent: boolean) => ({ headersSent });

  it('only the last response, when its headers have not left', () => {
    const pending = [res(true), res(false), res(false)];
    expect(lastUnsent(pending)).toBe(pending[2]);
  });

  it('none when the last response already sent its headers (a stream): the idle rule closes it later', () => {
    expect(lastUnsent([res(true)])).toBeUndefined();
  });

  it('none when nothing is in flight', () => {
    expect(lastUnsent([])).toBeUndefined();
  });
});

describe('isUpgraded', () => {
  const conn = (kind: Connection['kind'], socket: object): Connection => ({
    socket: socket as Socket,
    server: {} as Connection['server'],
    kind,
    pending: [],
    starts: [],
    lastActive: 0,
    bytesRead: 0,
    session: null,
    cause: null,
    idleTimer: null,
    upgraded: false,
    websocket: false,
    appCloses: false,
    writtenAtUpgrade: 0,
    closeAfterFinish: false,
    shed: false,
  });

  it('an HTTP/1 socket whose parser was released (upgrade) and that is still open', () => {
    expect(isUpgraded(conn('http', { parser: null, destroyed: false }))).toBe(true);
  });

  it('not while node:http still parses it, nor before it ever had a parser (TLS handshake)', () => {
    expect(isUpgraded(conn('http', { parser: {}, destroyed: false }))).toBe(false);
    expect(isUpgraded(conn('http', { destroyed: false }))).toBe(false);
  });

  it('remembers it: once closed, the parser is released too, but it was still an upgraded socket', () => {
    const socket = { parser: null as unknown, destroyed: false };
    const c = conn('http', socket);
    expect(isUpgraded(c)).toBe(true);
    socket.destroyed = true;
    expect(isUpgraded(c)).toBe(true);
  });

  it('never for HTTP/2 or raw connections', () => {
    expect(isUpgraded(conn('http2', { parser: null, destroyed: false }))).toBe(false);
    expect(isUpgraded(conn('raw', { parser: null, destroyed: false }))).toBe(false);
  });
});

describe('closeFrame (a server close frame, RFC 6455 5.5.1)', () => {
  it('is FIN + opcode 8, unmasked, with the code big-endian and the reason', () => {
    expect([...closeFrame(1012, 'service restart')]).toEqual([0x88, 17, 0x03, 0xf4, ...Buffer.from('service restart')]);
    expect([...closeFrame(1001, '')]).toEqual([0x88, 2, 0x03, 0xe9]);
  });

  it('cuts a reason so that the payload fits a control frame (125 bytes)', () => {
    const frame = closeFrame(1001, 'x'.repeat(300));
    expect(frame[1]).toBe(125);
    expect(frame.length).toBe(127);
  });
});

describe('isEventStream', () => {
  const res = (type: string | undefined, header: string | null = null) => ({
    getHeader: (name: string) => (name === 'content-type' ? type : undefined),
    headersSent: header !== null,
    _header: header,
  });

  it('reads the Content-Type the app set', () => {
    expect(isEventStream(res('text/event-stream'))).toBe(true);
    expect(isEventStream(res('text/event-stream; charset=utf-8'))).toBe(true);
    expect(isEventStream(res('text/plain'))).toBe(false);
  });

  it('reads the headers writeHead() wrote without keeping them', () => {
    expect(isEventStream(res(undefined, 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n'))).toBe(true);
    expect(isEventStream(res(undefined, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'))).toBe(false);
    expect(isEventStream(res(undefined))).toBe(false);
  });
});
