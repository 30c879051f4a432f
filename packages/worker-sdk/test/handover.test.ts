import { EventEmitter, once } from 'node:events';
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { Handover } from '../src/handover.js';
import { PROTOCOL_VERSION } from '../src/protocol.js';

/** The master's end of the IPC channel: records the worker's answers, delivers connections with a socket. */
class FakeChannel extends EventEmitter {
  readonly sent: { type: string; id: number; accepted: boolean; rest?: string }[] = [];
  connected = true;
  send(message: unknown, _handle?: unknown, _options?: object, done?: (err: Error | null) => void): boolean {
    this.sent.push(message as FakeChannel['sent'][number]);
    this.emit('sent');
    done?.(null);
    return true;
  }
  deliver(id: number, socket: net.Socket, head = ''): void {
    this.emit('message', { $supervise: PROTOCOL_VERSION, type: 'connection', id, head }, socket);
  }
  async answer(id: number): Promise<FakeChannel['sent'][number]> {
    for (let i = 0; i < 50; i++) {
      const found = this.sent.find((m) => m.id === id);
      if (found) return found;
      await once(this, 'sent', { signal: AbortSignal.timeout(5_000) });
    }
    throw new Error(`no answer for connection ${id}`);
  }
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const listen = async (server: net.Server, port = 0): Promise<number> => {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
};

/**
 * The master's listener, made before the Handover: the handover tracks every server that listens after it
 * exists, and this one must not count as the app's.
 */
async function front(): Promise<() => Promise<{ socket: net.Socket; client: net.Socket }>> {
  const server = net.createServer();
  const port = await listen(server);
  return async () => {
    const client = net.connect(port, '127.0.0.1');
    const [socket] = (await once(server, 'connection')) as [net.Socket];
    closers.push(() => {
      client.destroy();
      socket.destroy();
    });
    return { socket, client };
  };
}

/** The app's server on the private port: it answers with what it read first (the head comes first). */
function appServer(): net.Server {
  return net.createServer((socket) => socket.once('data', (d) => socket.end(`app read: ${d}`)));
}

const readAll = async (client: net.Socket): Promise<string> => {
  let text = '';
  client.on('data', (d) => (text += d));
  await once(client, 'end', { signal: AbortSignal.timeout(5_000) });
  return text;
};

/** A port nothing listens on: the app's private port, before the app listens on it. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  const port = await listen(probe);
  probe.close();
  await once(probe, 'close');
  return port;
}

describe('Handover (the worker side of --sticky)', () => {
  it("a connection is emitted on the app's server on the private port, the master's head bytes first", async () => {
    const accepted = await front();
    const port = await freePort();
    const channel = new FakeChannel();
    new Handover(port, channel);
    // Another server of the app listens too: the one on the private port gets the connection.
    await listen(net.createServer());
    await listen(appServer(), port);
    const { socket, client } = await accepted();
    channel.deliver(1, socket, Buffer.from('GET / HTTP/1.1\r\n').toString('base64'));
    expect(await channel.answer(1)).toMatchObject({ type: 'connection-ack', id: 1, accepted: true });
    client.write('Host: x\r\n');
    expect(await readAll(client)).toMatch(/^app read: GET \/ HTTP\/1\.1\r\n/);
  });

  it('a connection that comes before the app listens waits for it, then is handed over', async () => {
    const accepted = await front();
    const port = await freePort();
    const channel = new FakeChannel();
    new Handover(port, channel);
    const { socket, client } = await accepted();
    channel.deliver(2, socket);
    expect(channel.sent).toEqual([]);
    await listen(appServer(), port);
    expect(await channel.answer(2)).toMatchObject({ id: 2, accepted: true });
    client.write('hello');
    expect(await readAll(client)).toBe('app read: hello');
  });

  it('once the app closed its server (a drain), a connection is turned away with what was read of it', async () => {
    const accepted = await front();
    const port = await freePort();
    const channel = new FakeChannel();
    new Handover(port, channel);
    const app = appServer();
    await listen(app, port);
    const first = await accepted();
    channel.deliver(3, first.socket);
    expect(await channel.answer(3)).toMatchObject({ accepted: true });
    app.close();
    const { socket, client } = await accepted();
    client.write('early bytes');
    await once(socket, 'readable');
    channel.deliver(4, socket);
    const refused = await channel.answer(4);
    expect(refused).toMatchObject({ id: 4, accepted: false });
    expect(Buffer.from(refused.rest ?? '', 'base64').toString()).toBe('early bytes');
    expect(socket.destroyed).toBe(true);
  });

  it('a connection message without its socket is ignored', () => {
    const channel = new FakeChannel();
    new Handover(1, channel);
    channel.emit('message', { $supervise: PROTOCOL_VERSION, type: 'connection', id: 5, head: '' });
    expect(channel.sent).toEqual([]);
  });
});
