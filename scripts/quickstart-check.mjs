#!/usr/bin/env node
// CI: the README's quick start, followed literally: `npm run demo` on another port (PORT=...), read the ready
// line for the address and the master's pid, `curl` the app, `kill -HUP <pid>` (a rolling restart), Ctrl+C
// (SIGINT to the process group) and expect exit 0. Bounded in time; 127.0.0.1 only.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stderr.write(`[quickstart-check] ${m}\n`);
let demo = null;
const fail = (m) => {
  say(`FAILED: ${m}`);
  if (demo?.pid) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {}
  }
  process.exit(1);
};
setTimeout(() => fail('took longer than 90 s'), 90_000).unref();

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address();
    s.close(() => resolve(p));
  });
});
// Its own process group, as a shell's foreground job: Ctrl+C reaches npm, the master and the workers at once.
demo = spawn('npm', ['run', 'demo'], {
  cwd: root,
  env: { ...process.env, PORT: String(port), FORCE_COLOR: '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let out = '';
demo.stdout.setEncoding('utf8').on('data', (c) => (out += c));
demo.stderr.setEncoding('utf8').on('data', () => {});
const waitFor = async (re, what, ms = 60_000) => {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(out);
    if (m) return m;
    if (demo.exitCode !== null) fail(`npm run demo exited (${demo.exitCode}) before ${what}:\n${out.slice(-2000)}`);
    if (Date.now() > end) fail(`no ${what} within ${ms} ms:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const get = () =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let b = '';
        res
          .setEncoding('utf8')
          .on('data', (c) => (b += c))
          .on('end', () => resolve({ status: res.statusCode, body: b }));
      })
      .on('error', reject);
  });

// "all 4 workers are ready in 312 ms: http://127.0.0.1:3000 (master pid 4242, connections: shared)"
const ready = await waitFor(
  /all 4 workers are ready in \d+ ms: (http:\/\/[^ ]+) \(master pid (\d+), connections: shared\)/,
  'the ready line',
);
if (ready[1] !== `http://127.0.0.1:${port}`) fail(`the ready line names ${ready[1]}, not http://127.0.0.1:${port}`);
const pid = Number(ready[2]);
const first = await get();
if (first.status !== 200) fail(`GET / answered ${first.status}`);
process.kill(pid, 'SIGHUP');
await waitFor(/rollout 2 done/, 'the end of the rolling restart', 30_000);
const second = await get();
if (second.status !== 200) fail(`GET / after the rollout answered ${second.status}`);
process.kill(-demo.pid, 'SIGINT');
const code = await new Promise((resolve) => demo.once('exit', (c) => resolve(c)));
await waitFor(/stopped in \d+ ms, exit code 0/, "the master's stop line", 10_000);
// npm itself dies of the SIGINT (code null) or exits 130; the master's own exit code is in its stop line.
if (code !== null && code !== 0 && code !== 130) fail(`npm run demo exited with ${code}`);
say(
  `ok: ready line at ${ready[1]} (master pid ${pid}), a rolling restart, Ctrl+C: the master stopped with exit code 0`,
);
