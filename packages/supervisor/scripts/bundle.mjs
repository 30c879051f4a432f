// Bundles the CLI (src/cli/main.ts and everything it loads) into one CommonJS file, dist/bundle/cli.cjs, and a run
// (src/cli/master-main.ts) into another, dist/bundle/master.cjs; the bin (dist/cli.cjs, itself built here from
// src/cli.ts) loads one of them. Why one file: node's ES module loader resolves, reads and
// links every file on its own, and that per-file cost is most of what `supervise status`, `--version` and the
// master's start spend before they do anything; one CommonJS file is read and compiled once, lazily. The bin is
// CommonJS too: an ES module entry loads node's ES module loader, which reads the entry with fs/promises (that
// module, and libuv's four threads for the read, then stay in the master for its whole life).
//
// The bundle sits two levels below the package, as dist/cli/main.js does, so the URLs the code builds from
// import.meta.url (../../package.json, ../cli.js, require() of the worker SDK) resolve to the same files.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { minify } from 'terser';

const pkg = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// src/require-cjs.ts loads CommonJS packages with require() rather than import (its comment says why). In the bundle
// those packages are part of the file: turn `requireCjs('x')` into `require('x')`, which esbuild bundles.
const bundleRequireCjs = {
  name: 'bundle-require-cjs',
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace(/\brequireCjs\((\s*'[^']+')/g, 'require($1'),
      loader: 'ts',
    }));
  },
};

// Two requires of the bundled dependencies that every command would pay for and none uses: commander loads
// node:child_process (and with it net, dgram and more) for executable subcommands, which supervise has none of;
// pino loads its transport machinery (thread-stream, a worker thread per transport), which the master's logger,
// writing synchronously to a file descriptor, does not use. Both stay reachable: the first is loaded on use,
// the second throws a clear error if a transport is ever asked for.
const trimDependencies = {
  name: 'trim-dependencies',
  setup(b) {
    b.onLoad({ filter: /[/\\]commander[/\\]lib[/\\]command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const lazy = source.replace(
        "const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };",
      );
      if (lazy === source) throw new Error(`bundle: commander's require of node:child_process not found in ${args.path}`);
      return { contents: lazy, loader: 'js' };
    });
    b.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, (args) =>
      /[/\\]pino[/\\](lib[/\\])?[^/\\]+\.js$/.test(args.importer) ? { path: 'pino-transport', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "module.exports = function transport() { throw new Error('pino transports are not part of the supervise bundle'); };",
      loader: 'js',
    }));
  },
};

// pino is loaded for a terminal only (observe/logger.ts): in a file of its own beside the bundle, so that the
// JSON-logging master does not hold its source.
const pinoChunk = {
  name: 'pino-chunk',
  setup(b) {
    b.onResolve({ filter: /^pino$/ }, (args) =>
      /[/\\]src[/\\]/.test(args.importer) ? { path: './pino.cjs', external: true } : undefined,
    );
  },
};

// Every file here: one CommonJS file for the node versions the package supports.
const CJS = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };
const resolveDependency = (id) => createRequire(path.join(pkg, 'package.json')).resolve(id);

const { BUNDLE_HEAD, BUNDLE_TAIL } = await import('../dist/code-cache.js');

/**
 * Writes esbuild's output with its local variables renamed (terser): a shorter source, all of which V8 holds in
 * the master's heap (bench/RESULTS-cost.md has what it saves). Top-level names (every function and class of the
 * bundle) and property names stay, and so do the names of functions and classes anywhere, which stacks show;
 * `node --enable-source-maps` maps positions back through the chained source map. Then the first line and the
 * last (BUNDLE_HEAD's), outside what terser reads: their names are node's module arguments.
 */
async function writeMangled(outputFiles, outfile, head, tail) {
  const code = outputFiles.find((f) => f.path.endsWith('.cjs')).text;
  const map = outputFiles.find((f) => f.path.endsWith('.map')).text;
  // sourcemap 'external': esbuild wrote no sourceMappingURL comment; the file's own is added below.
  const out = await minify(code, {
    ecma: 2020,
    compress: false,
    mangle: { keep_fnames: true, keep_classnames: true },
    format: { comments: false },
    sourceMap: { content: map },
  });
  const mangledMap = JSON.parse(out.map);
  // The head is a line of its own, before the code the map describes.
  mangledMap.mappings = `;${mangledMap.mappings}`;
  mangledMap.file = path.basename(outfile);
  // esbuild wrote nothing (write: false), so the folder may not exist yet (a fresh clone).
  mkdirSync(path.dirname(outfile), { recursive: true });
  writeFileSync(outfile, `${head}\n${out.code}${tail}\n//# sourceMappingURL=${path.basename(outfile)}.map\n`);
  writeFileSync(`${outfile}.map`, JSON.stringify(mangledMap));
}

// Code that only an option loads, at the master's start (the health endpoint and its metrics, --sticky's
// listener): in the master's bundle it would sit in every master's heap, its source included (bench/RESULTS-cost.md
// has what it costs). For the master's bundle each is a file of its own beside it, which the bundle's import()
// requires. A file bundles its own copy of what it imports from the rest: those modules hold no state, and
// errors.ts's SuperviseError is recognised across copies. Only what a master loads at its start goes here: a file
// loaded later (an upgrade, a reload) could come from a newer release installed over this one meanwhile.
const OPTION_FILES = [
  ['src/observe/health.ts', 'master-health'],
  ['src/observe/metrics.ts', 'master-metrics'],
  ['src/sticky/listener.ts', 'master-sticky'],
];
// The import() becomes a require() of the file when first called: an import() would go through node's ES module
// loader, which the master does not load (the bin says why).
const optionFiles = {
  name: 'option-files',
  setup(b) {
    b.onResolve({ filter: /\.js$/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const file = path.relative(pkg, path.resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
      const found = OPTION_FILES.find(([source]) => source === file);
      return found ? { path: found[1], namespace: 'option-file' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'option-file' }, (args) => ({
      contents: `module.exports = require('./${args.path}.cjs');`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/master-[a-z]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const BUNDLE_URL = "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;";

/** Bundles src/<entry> to dist/bundle/<name>.cjs, its local names mangled (writeMangled), between head and tail. */
async function bundleMangled(entry, name, { head, tail = '', plugins = [] }) {
  const outfile = path.join(pkg, `dist/bundle/${name}.cjs`);
  const built = await build({
    entryPoints: [path.join(pkg, entry)],
    outfile,
    ...CJS,
    // Loaded only by the options that need them (a terminal, a health port, --watch): they stay out of the file.
    external: ['pino-pretty', 'prom-client', 'chokidar'],
    define: { 'import.meta.url': '__bundleUrl' },
    // Whitespace only here, local names below: V8 keeps the whole source in the master's heap. Not keepNames:
    // its helper redefines the name of every function at load.
    minifyWhitespace: true,
    sourcemap: 'external',
    write: false,
    plugins: [bundleRequireCjs, trimDependencies, pinoChunk, ...plugins],
  });
  await writeMangled(built.outputFiles, outfile, head, tail);
}

// The full CLI (cli/main.ts: every command), and the master's own bundle (cli/master-main.ts: a run, which the bin
// tells by the command names below), without the commands' code: V8 holds a bundle's whole source in the heap
// for the process's life, and in a master the commands' code never runs (bench/RESULTS-cost.md has what it
// saves). A process loads one of the two (a master also loads the option files its options ask for), so no
// module is loaded twice. code-cache.ts's BUNDLE_HEAD says why each is its own module function.
await bundleMangled('src/cli/main.ts', 'cli', { head: `${BUNDLE_HEAD}${BUNDLE_URL}`, tail: BUNDLE_TAIL });
await bundleMangled('src/cli/master-main.ts', 'master', {
  head: `${BUNDLE_HEAD}${BUNDLE_URL}`,
  tail: BUNDLE_TAIL,
  plugins: [optionFiles],
});
// Required by the master's bundle: modules of node's own form.
for (const [entry, name] of OPTION_FILES) await bundleMangled(entry, name, { head: BUNDLE_URL });

await build({
  entryPoints: [resolveDependency('pino')],
  outfile: path.join(pkg, 'dist/bundle/pino.cjs'),
  ...CJS,
  minifyWhitespace: true,
  plugins: [trimDependencies],
});

// The bin: src/cli.ts and the two modules it loads before the bundle, as one CommonJS file (why: above).
// The command names go into it (cli/plain-run.ts): the bin tells a run, which loads the master's bundle, from a
// command without loading the commands' table.
const { COMMAND_NAMES } = await import('../dist/cli/command-names.js');
await build({
  entryPoints: [path.join(pkg, 'src/cli.ts')],
  outfile: path.join(pkg, 'dist/cli.cjs'),
  ...CJS,
  define: { 'import.meta.url': '__binUrl', __SUPERVISE_COMMAND_NAMES__: JSON.stringify([...COMMAND_NAMES]) },
  banner: { js: "'use strict';\nconst __binUrl = require('node:url').pathToFileURL(__filename).href;" },
});
chmodSync(path.join(pkg, 'dist/cli.cjs'), 0o755);

// The drain engine every worker preloads, in one file too: a worker then reads and compiles one file rather than
// a dozen before the app's first line, and the master copies one file (worker/preload-copy.ts) at its start.
await build({
  entryPoints: [resolveDependency('@supervise/worker-sdk/preload')],
  outfile: path.join(pkg, 'dist/bundle/worker-preload.cjs'),
  ...CJS,
});

// The code caches of the new bundles, each made by a node of its own (code-cache.mjs says why); old caches are
// removed first, and a build whose caches cannot be made still works: the bin then compiles the bundles.
for (const name of ['cli', 'master']) {
  rmSync(path.join(pkg, `dist/bundle/${name}.cjs.cache`), { force: true });
  try {
    execFileSync(process.execPath, [path.join(pkg, 'scripts/code-cache.mjs'), name], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch (err) {
    console.warn(`bundle: no code cache for ${name}.cjs (${err instanceof Error ? err.message : String(err)})`);
  }
}
