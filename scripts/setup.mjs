#!/usr/bin/env node
// One idempotent step that takes a fresh clone (Node >= 20 and npm only) to a built workspace:
// installs pnpm when it is missing, installs dependencies and builds the packages.
// corepack is avoided on purpose: its signature check fails against some registries.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.env.SUPERVISE_SETUP_QUIET === '1';

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status === 0;
}

function run(cmd) {
  if (!quiet) console.error(`[setup] ${cmd}`);
  execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

let pnpm = 'pnpm';
if (!has('pnpm')) {
  try {
    run('npm install -g pnpm@10');
  } catch {
    // No permission for a global install: run pnpm through npx instead.
    pnpm = 'npx -y pnpm@10';
  }
  if (pnpm === 'pnpm' && !has('pnpm')) pnpm = 'npx -y pnpm@10';
}

/** Newest modification time under `dir` (files whose name passes `keep`), 0 when there is none. */
function newest(dir, keep = () => true) {
  let t = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) t = Math.max(t, newest(file, keep));
    else if (keep(entry.name)) t = Math.max(t, statSync(file).mtimeMs);
  }
  return t;
}
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

// Up to date (a second `npm run demo`): skip what is. CI and a fresh clone always do both steps.
const manifests = [
  'package.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  ...['packages', 'examples'].flatMap((d) =>
    existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(d, p, 'package.json')) : [],
  ),
  'bench/package.json',
].map((f) => mtime(join(root, f)));
// Written after each install: pnpm leaves its own files alone when nothing changed.
const stamp = join(root, 'node_modules', '.supervise-setup');
const installed = mtime(stamp);
const packages = ['worker-sdk', 'supervisor'].map((p) => join(root, 'packages', p));
const built = packages.every(
  (dir) => newest(join(dir, 'dist')) >= Math.max(newest(join(dir, 'src')), mtime(join(dir, 'tsconfig.json'))),
);

if (process.env.CI || !installed || installed < Math.max(...manifests)) {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ' --frozen-lockfile' : '';
  run(`${pnpm} install${frozen} --reporter=append-only`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  run(`${pnpm} run build`);
} else if (!built) {
  run(`${pnpm} run build`);
} else if (!quiet) {
  console.error('[setup] dependencies and build are up to date');
}
