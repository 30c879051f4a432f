#!/usr/bin/env node
// The house rules a tree can be checked for, run by CI beside the linter: no source file over 400 lines, no
// folder of more than 15 files, no import circle inside a package: neither as the modules load, nor through
// `import type` (erased by the compiler, it orders nothing at run time, but two modules whose types lean on each
// other are one concern split in two). One line per breach, exit 1 when there is any.
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
const TYPE_IMPORT = /(?:^|\n)\s*(?:import|export)\s+type\b[^;'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every circle a depth-first search meets in a graph (file -> the files it imports), relative to base. */
function circles(graph, base) {
  const found = [];
  // A grey node met again closes a circle.
  const colour = new Map();
  const stack = [];
  const visit = (node) => {
    colour.set(node, 'grey');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      if (colour.get(dep) === 'grey') {
        const circle = stack.slice(stack.indexOf(dep)).concat(dep);
        found.push(circle.map((f) => path.relative(path.join(root, base), f)).join(' -> '));
      } else if (!colour.has(dep)) visit(dep);
    }
    stack.pop();
    colour.set(node, 'black');
  };
  for (const node of graph.keys()) if (!colour.has(node)) visit(node);
  return found;
}

for (const base of SOURCE_ROOTS) {
  const graph = new Map();
  // The same edges, and the type-only ones.
  const typeGraph = new Map();
  for (const file of walk(path.join(root, base))) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) problems.push(`${path.relative(root, file)} has ${lines} lines (at most ${MAX_LINES})`);
    const resolve = (spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    const deps = new Set([...text.matchAll(IMPORT)].map((m) => resolve(m[1] ?? m[2])));
    graph.set(file, deps);
    typeGraph.set(file, new Set([...deps, ...[...text.matchAll(TYPE_IMPORT)].map((m) => resolve(m[1]))]));
  }
  const loading = circles(graph, base);
  for (const circle of loading) problems.push(`import circle: ${circle}`);
  // Type-only circles once the loading ones are gone: those would be found again in this graph.
  if (loading.length === 0) {
    for (const circle of circles(typeGraph, base)) problems.push(`import circle (through import type): ${circle}`);
  }
}

for (const p of problems) console.error(`check-tree: ${p}`);
if (problems.length > 0) process.exit(1);
console.log('check-tree: ok');
