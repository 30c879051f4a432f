import { afterEach, describe, expect, it } from 'vitest';

import { get, load, until } from '../../helpers/http.js';
import { example, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('a Koa app with the SDK', () => {
  it('rolls under load without a failed request, completes a slow request, and runs its shutdown hook', async () => {
    const port = await freePort();
    const s = supervise([example('koa/server.js'), '-w', '2', '--heartbeat', '50'], { env: { PORT: String(port) } });
    await s.ready();
    expect(
      s
        .events('worker.state')
        .filter((l) => l.to === 'ready')
        .map((l) => l.drain),
    ).toEqual(['sdk', 'sdk']);
    expect((await get(port, '/ready')).status).toBe(200);

    const traffic = load(port, { connections: 10, maxMs: 20_000 });
    await until(() => traffic.result.ok > 100, 10_000, 'load to warm up');
    const slow = get(port, '/slow?ms=1500');
    await s.waitInFlight(1);
    s.signal('SIGHUP');
    const end = await s.waitEvent('rollout.end', undefined, 20_000);
    expect(end.outcome).toBe('done');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^slow 1500 \d+\n$/);
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(s.lines.some((l) => l.src === 'worker' && /koa worker \d+: shutdown hook ran/.test(String(l.msg)))).toBe(
      true,
    );

    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
