/**
 * Capistrano-style release trees for the deploy tests: `root/releases/<name>` (an app, a REVISION file and
 * supervise installed in its own node_modules, as `npm ci` in the release would leave it) and `root/current`, a
 * symlink switched atomically (a new symlink renamed over the old one, as Capistrano does).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT } from './supervise.js';

/** Answers `<REVISION read from its cwd> <the directory its code was loaded from> <pid> <node version>`. */
const APP = `const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const revision = fs.readFileSync('REVISION', 'utf8').trim();
const dir = path.basename(__dirname);
http
  .createServer((req, res) => res.end(revision + ' ' + dir + ' ' + process.pid + ' ' + process.version + ' ' + (process.env.GREETING || '-')))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

const copyDist = (from: string, to: string) =>
  cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith('.d.ts') });

/**
 * The third-party packages supervise needs, linked once into `root/node_modules` (outside every release, as a
 * shared cache would be): a release then holds only supervise's own files, which is what deleting it removes.
 */
function linkDependencies(root: string): void {
  const dir = path.join(root, 'node_modules');
  if (existsSync(dir)) return;
  mkdirSync(dir);
  const deps = path.join(ROOT, 'packages/supervisor/node_modules');
  for (const name of readdirSync(deps)) {
    if (name.startsWith('@') || name.startsWith('.')) continue;
    symlinkSync(path.join(deps, name), path.join(dir, name));
  }
}

/** Creates `root/releases/<name>` and returns its path; its supervise CLI is `<release>/node_modules/.../cli.cjs`. */
export function makeRelease(root: string, name: string, app = APP): string {
  linkDependencies(root);
  const dir = path.join(root, 'releases', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'app.js'), app);
  writeFileSync(path.join(dir, 'REVISION'), `${name}\n`);
  for (const pkg of ['supervisor', 'worker-sdk']) {
    const to = path.join(dir, 'node_modules/@supervise', pkg);
    copyDist(path.join(ROOT, 'packages', pkg, 'dist'), path.join(to, 'dist'));
    cpSync(path.join(ROOT, 'packages', pkg, 'package.json'), path.join(to, 'package.json'));
  }
  return dir;
}

/** The CLI as a release installs it, reached through `current` (what `current/node_modules/.bin/supervise` runs). */
export function releaseCli(root: string): string {
  return path.join(root, 'current/node_modules/@supervise/supervisor/dist/cli.cjs');
}

/** Points `root/current` at `releases/<name>` atomically. */
export function switchCurrent(root: string, name: string): void {
  const next = path.join(root, `current.${name}.tmp`);
  symlinkSync(path.join('releases', name), next);
  renameSync(next, path.join(root, 'current'));
}
