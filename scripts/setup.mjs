#!/usr/bin/env node
// One idempotent step that takes a fresh clone (Node >= 20 and npm only) to a built workspace:
// installs pnpm when it is missing, installs dependencies and builds the packages.
// corepack is avoided on purpose: its signature check fails against some registries.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ' --frozen-lockfile' : '';
run(`${pnpm} install${frozen} --reporter=append-only`);
run(`${pnpm} run build`);
