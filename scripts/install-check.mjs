#!/usr/bin/env node
// CI: the README's "Use it in your own project" section, followed literally in a new npm project: pack the
// two packages, install the tarballs with npm, run an app (one that imports the SDK) with `npx supervise`,
// make a request, stop it with SIGTERM, expect exit 0. Bounded in time; 127.0.0.1 only.
import { execFileSync, execSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stderr.write(`[install-check] ${m}\n`);
const fail = (m) => {
  say(`FAILED: ${m}`);
  process.exit(1);
};

const tarballs = execFileSync(process.execPath, [join(root, 'scripts/pack.mjs')], { cwd: root, encoding: 'utf8' })
  .trim()
  .split('\n');
const project = mkdtempSync(join(os.tmpdir(), 'supervise-install-'));
let master = null;
const cleanup = () => {
  if (master && master.exitCode === null) master.kill('SIGKILL');
  rmSync(project, { recursive: true, force: true });
};
process.on('exit', cleanup);
const timer = setTimeout(() => fail('took longer than 120 s'), 120_000);

execSync('npm init -y', { cwd: project, stdio: 'ignore' });
say(`npm install ${tarballs.map((t) => t.split('/').pop()).join(' ')}`);
execSync(`npm install --no-audit --no-fund ${tarballs.map((t) => JSON.stringify(t)).join(' ')}`, {
  cwd: project,
  stdio: ['ignore', 'ignore', 'inherit'],
});
writeFileSync(
  join(project, 'server.js'),
  `const http = require('node:http');
const { ready } = require('@supervise/worker-sdk');
http.createServer((req, res) => res.end('hello from ' + process.pid + '\\n')).listen(Number(process.env.PORT), '127.0.0.1', () => ready());
`,
);

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address();
    s.close(() => resolve(p));
  });
});
// What `npx supervise` runs; started directly so that the SIGTERM reaches the master, not npm.
master = spawn(join(project, 'node_modules/.bin/supervise'), ['server.js', '-w', '2'], {
  cwd: project,
  env: { ...process.env, PORT: String(port) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
master.stdout.setEncoding('utf8').on('data', (c) => (out += c));
const deadline = Date.now() + 30_000;
while (!/"event":"master.ready"/.test(out)) {
  if (master.exitCode !== null) fail(`the master exited (${master.exitCode}) before it was ready:\n${out}`);
  if (Date.now() > deadline) fail(`no ready line within 30 s:\n${out}`);
  await new Promise((r) => setTimeout(r, 100));
}
const body = await new Promise((resolve, reject) => {
  http
    .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let b = '';
      res
        .setEncoding('utf8')
        .on('data', (c) => (b += c))
        .on('end', () => resolve(b));
    })
    .on('error', reject);
});
if (!/^hello from \d+\n$/.test(body)) fail(`unexpected answer: ${JSON.stringify(body)}`);
if (!/"usesSdk":true|"drain":"sdk"/.test(out)) fail(`the workers did not report the SDK:\n${out}`);
master.kill('SIGTERM');
const code = await new Promise((resolve) => master.once('exit', resolve));
clearTimeout(timer);
if (code !== 0) fail(`the master exited with ${code}`);
say(`ok: installed from ${tarballs.length} tarballs with npm, served "${body.trim()}", stopped with exit 0`);
