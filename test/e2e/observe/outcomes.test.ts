/**
 * The drain engine's outcome counts (issue 30), zero-code, as /metrics shows them: a request whose client
 * resets the connection before the answer counts as a reset, a 500 as 5xx, by generation.
 */
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { fixture, freePort, killAll, type Supervised, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Sends a request the app answers after 10 s; resets the connection once the worker reports it in flight. */
async function resetMidRequest(port: number, s: Supervised): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitInFlight(1, 10_000);
  socket.resetAndDestroy();
  await closed;
  await until(async () => (await s.inFlight()) === 0, 10_000, 'the reset request gone from the worker');
}

describe('outcome counts on /metrics', () => {
  it('counts 2xx, 5xx and requests reset before their answer, for the generation that served them', async () => {
    const dir = tempDir('supervise-outcomes-');
    const file = path.join(dir, 'RELEASE');
    writeFileSync(file, 'errors\n');
    const [port, health] = [await freePort(), await freePort()];
    const sock = path.join(dir, 'control.sock');
    const args = ['-w', '1', '--heartbeat', '100', '--health-port', String(health), '--control', sock];
    const s = supervise([fixture('canary-app.js'), ...args], {
      env: { PORT: String(port), RELEASE_FILE: file },
    });
    await s.ready();
    // 10 requests: the release answers 500 to one in five.
    for (let i = 0; i < 10; i++) await get(port);
    for (let i = 0; i < 3; i++) await resetMidRequest(port, s);
    const scrape = async () => (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    const text = await until(
      async () => {
        const t = await scrape();
        return (sample(t, 'supervise_http_resets_total{generation="1"}') ?? 0) >= 3 ? t : null;
      },
      10_000,
      'three resets on /metrics',
    );
    expect(sample(text, 'supervise_http_resets_total{generation="1"}')).toBe(3);
    // The three reset requests never finished: counted as resets, not as responses.
    expect(sample(text, 'supervise_http_responses_total{generation="1",code="5xx"}')).toBe(2);
    expect(sample(text, 'supervise_http_responses_total{generation="1",code="2xx"}')).toBe(8);
    expect(sample(text, 'supervise_http_request_duration_seconds_count{generation="1"}')).toBe(10);
    // 40 ms each: all above 25 ms, all under 100 ms.
    expect(sample(text, 'supervise_http_request_duration_seconds_bucket{generation="1",le="0.025"}')).toBe(0);
    expect(sample(text, 'supervise_http_request_duration_seconds_bucket{generation="1",le="0.1"}')).toBe(10);
  }, 30_000);
});
