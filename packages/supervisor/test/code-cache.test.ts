import { chmodSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createRequire } from 'node:module';

import { BUNDLE_HEAD, BUNDLE_TAIL, cacheFileOf, loadBundle, trustedCache, writeCodeCache } from '../src/code-cache.js';

// node's own compile cache (Node 22.1 and later) would stay on in the test process: the e2e test checks it.
const NO_NODE_CACHE = { compileCache: false };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A small CommonJS bundle in a fresh directory, and its code cache written as the build does. */
function bundleWithCache(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'supervise-code-cache-'));
  dirs.push(dir);
  const file = path.join(dir, 'cli.cjs');
  writeFileSync(
    file,
    `${BUNDLE_HEAD}const path = require('node:path');\nmodule.exports = { answer: () => 42, base: path.basename(__filename) };${BUNDLE_TAIL}`,
  );
  writeCodeCache(file, loadBundle(file, NO_NODE_CACHE).produce());
  return file;
}

describe('the bundle with its code cache', () => {
  it('is required as node would, and takes the cache written beside it', () => {
    const file = bundleWithCache();
    const loaded = loadBundle(file, NO_NODE_CACHE);
    expect(loaded.cache).toBe('accepted');
    expect((loaded.exports as { answer(): number }).answer()).toBe(42);
    expect((loaded.exports as { base: string }).base).toBe('cli.cjs');
  });

  it("is the same module when node requires the file (with --enable-source-maps, or node's own cache)", () => {
    const file = bundleWithCache();
    const required = createRequire(file)(file) as { answer(): number; base: string };
    expect(required.answer()).toBe(42);
    expect(required.base).toBe('cli.cjs');
  });

  it("refuses a file that is not in the bundle's form, naming it", () => {
    const file = bundleWithCache();
    writeFileSync(file, 'module.exports = {};\n');
    expect(() => loadBundle(file, NO_NODE_CACHE)).toThrow(`${file} is not a supervise bundle`);
  });

  it('compiles without a cache when there is none', () => {
    const file = bundleWithCache();
    rmSync(cacheFileOf(file));
    expect(loadBundle(file, NO_NODE_CACHE).cache).toBe('none');
  });

  it('ignores a cache that others may write: V8 would run whatever bytecode it holds', () => {
    const file = bundleWithCache();
    chmodSync(cacheFileOf(file), 0o666);
    expect(trustedCache(file, statSync(file))).toBeUndefined();
    expect(loadBundle(file, NO_NODE_CACHE).cache).toBe('none');
    chmodSync(cacheFileOf(file), 0o644);
    expect(loadBundle(file, NO_NODE_CACHE).cache).toBe('accepted');
  });

  it('ignores a cache made from another bundle (V8 itself compares only the length)', () => {
    const file = bundleWithCache();
    const st = statSync(file);
    utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
    expect(loadBundle(file, NO_NODE_CACHE).cache).toBe('none');
  });

  it('ignores a cache file without its header, or truncated', () => {
    const file = bundleWithCache();
    writeFileSync(cacheFileOf(file), Buffer.from([1, 2, 3]), { mode: 0o644 });
    expect(loadBundle(file, NO_NODE_CACHE).cache).toBe('none');
  });
});
