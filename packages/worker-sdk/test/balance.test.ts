import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { movable, shed } from '../src/drain/balance.js';
import { DrainEngine } from '../src/drain/engine.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** One keep-alive request on `agent`; the answer's Connection header. */
function request(port: number, agent: http.Agent): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      })
      .on('error', reject);
  });
}

describe('moving keep-alive connections (the worker side of --accept shared balancing)', () => {
  it('a marked connection answers its next request with Connection: close, and only that one', async () => {
    const engine = new DrainEngine();
    engine.enable();
    const server = http.createServer((_req, res) => res.end('ok'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    const agents = Array.from({ length: 4 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      for (const a of agents) expect(await request(port, a)).toBe('keep-alive');
      expect(movable(engine.connections)).toHaveLength(4);
      expect(shed(engine.connections, 2)).toBe(2);
      expect(movable(engine.connections)).toHaveLength(2);
      const answers = await Promise.all(agents.map((a) => request(port, a)));
      expect(answers.filter((c) => c === 'close')).toHaveLength(2);
      expect(answers.filter((c) => c === 'keep-alive')).toHaveLength(2);
      // The moved clients connect again; nothing failed on the way.
      const again = await Promise.all(agents.map((a) => request(port, a)));
      expect(again).toEqual(['keep-alive', 'keep-alive', 'keep-alive', 'keep-alive']);
    } finally {
      for (const a of agents) a.destroy();
    }
  });
});
