#!/usr/bin/env node
// The house rules a tree can be checked for, run by CI beside the linter: no source file over 400 lines, no
// folder of more than 15 files, no import circle inside a package (as the modules load: `import type` is erased by
// the compiler and orders nothing, so it does not count). One line per breach, exit 1 when there is any.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINES = 400;
const MAX_FILES = 15;
const SOURCE_ROOTS = ['packages/supervisor/src', 'packages/worker-sdk/src'];
const FOLDER_ROOTS = [...SOURCE_ROOTS, 'packages/supervisor/test', 'packages/worker-sdk/test', 'test'];

const problems = [];

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

function* folders(dir) {
  yield dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') {
      yield* folders(path.join(dir, entry.name));
    }
  }
}

for (const base of FOLDER_ROOTS) {
  for (const dir of folders(path.join(root, base))) {
    const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).length;
    if (files > MAX_FILES) problems.push(`${path.relative(root, dir)}/ holds ${files} files (at most ${MAX_FILES})`);
  }
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b(?!\s+type\b)[^;'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

for (const base of SOURCE_ROOTS) {
  const graph = new Map();
  for (const file of walk(path.join(root, base))) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) problems.push(`${path.relative(root, file)} has ${lines} lines (at most ${MAX_LINES})`);
    const deps = new Set();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      deps.add(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
    }
    graph.set(file, deps);
  }
  // Depth-first search; a grey node met again closes a circle.
  const colour = new Map();
  const stack = [];
  const visit = (node) => {
    colour.set(node, 'grey');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      if (colour.get(dep) === 'grey') {
        const circle = stack.slice(stack.indexOf(dep)).concat(dep);
        problems.push(`import circle: ${circle.map((f) => path.relative(path.join(root, base), f)).join(' -> ')}`);
      } else if (!colour.has(dep)) visit(dep);
    }
    stack.pop();
    colour.set(node, 'black');
  };
  for (const node of graph.keys()) if (!colour.has(node)) visit(node);
}

for (const p of problems) console.error(`check-tree: ${p}`);
if (problems.length > 0) process.exit(1);
console.log('check-tree: ok');
