#!/usr/bin/env node
// CI: every relative link in README.md, docs/*.md and bench/*.md resolves: the file (or directory) exists, and a
// `#fragment` names a heading of the target Markdown file (its GitHub anchor) or an explicit id/name there.
// Links to other sites (https:, mailto:) are not fetched. No dependencies. Exits 1 naming each broken link.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mdIn = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => join(root, dir, f))
    : [];
const files = [join(root, 'README.md'), ...mdIn('docs'), ...mdIn('bench')];

/** The text outside fenced code blocks, line by line (a link inside a code block is an example, not a link). */
function proseLines(text) {
  const out = [];
  let fence = null;
  for (const [i, line] of text.split('\n').entries()) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null;
      continue;
    }
    if (m) {
      fence = m[1];
      continue;
    }
    // Inline code spans are examples too.
    out.push({ n: i + 1, text: line.replace(/(`+)[^`]*?\1/g, '') });
  }
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped (not `-` or `_`), each space a `-`. */
function slug(heading) {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text
    .replace(/<[^>]+>/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (anchorCache.has(file)) return anchorCache.get(file);
  const anchors = new Set();
  const seen = new Map();
  let fence = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length) fence = null;
      continue;
    }
    if (f) {
      fence = f[1];
      continue;
    }
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

/** Every link target of a line: inline `[text](target)`, `<a href="target">`, and reference definitions. */
function targetsOf(line) {
  const out = [];
  for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  for (const m of line.matchAll(/<a\s[^>]*href="([^"]+)"/g)) out.push(m[1]);
  const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
  if (def) out.push(def[1]);
  return out;
}

const broken = [];
let checked = 0;
for (const file of files) {
  const where = relative(root, file);
  for (const { n, text } of proseLines(readFileSync(file, 'utf8'))) {
    for (const target of targetsOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      checked++;
      const [pathPart, fragment] = target.split('#', 2);
      const dest = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
      if (!dest.startsWith(root) || !existsSync(dest)) {
        broken.push(`${where}:${n}: ${target}: no such file (${relative(root, dest) || dest})`);
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
        broken.push(`${where}:${n}: ${target}: an anchor into a file that is not Markdown`);
        continue;
      }
      if (!anchorsOf(dest).has(decodeURIComponent(fragment))) {
        broken.push(`${where}:${n}: ${target}: no heading "#${fragment}" in ${relative(root, dest)}`);
      }
    }
  }
}

if (broken.length > 0) {
  for (const b of broken) process.stderr.write(`[check-docs] broken link: ${b}\n`);
  process.stderr.write(`[check-docs] FAILED: ${broken.length} of ${checked} relative links are broken\n`);
  process.exit(1);
}
process.stderr.write(`[check-docs] ok: ${checked} relative links in ${files.length} files resolve\n`);
