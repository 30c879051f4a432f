#!/usr/bin/env node
// npm run pack: the two packages as tarballs in ./packs, for a project that installs them with npm
// (they are not on the npm registry). pnpm pack turns the workspace:* dependency into the release's version.
import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'packs');
mkdirSync(out, { recursive: true });
const pnpm = (() => {
  try {
    execSync('pnpm --version', { stdio: 'ignore' });
    return 'pnpm';
  } catch {
    return 'npx -y pnpm@10';
  }
})();
for (const pkg of ['worker-sdk', 'supervisor']) {
  execSync(`${pnpm} pack --pack-destination ${JSON.stringify(out)}`, {
    cwd: join(root, 'packages', pkg),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const files = readdirSync(out)
  .filter((f) => f.endsWith('.tgz'))
  .sort();
process.stdout.write(`${files.map((f) => join(out, f)).join('\n')}\n`);
