// Bundles the CLI (src/cli/main.ts and everything it loads) into one CommonJS file, dist/bundle/cli.cjs, which the
// bin (dist/cli.js) requires. Why: node's ES module loader resolves, reads and links every file on its own, and
// that per-file cost is most of what `supervise status`, `--version` and the master's start spend before they do
// anything; one CommonJS file is read and compiled once, lazily.
//
// The bundle sits two levels below the package, as dist/cli/main.js does, so the URLs the code builds from
// import.meta.url (../../package.json, ../cli.js, require() of the worker SDK) resolve to the same files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

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

await build({
  entryPoints: [path.join(pkg, 'src/cli/main.ts')],
  outfile: path.join(pkg, 'dist/bundle/cli.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Loaded only by the options that need them (a terminal, a health port, --watch): they stay out of the file.
  external: ['pino-pretty', 'prom-client', 'chokidar'],
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Readable stacks: no minification, the original names, and a source map for `node --enable-source-maps`.
  sourcemap: 'linked',
  keepNames: true,
  logLevel: 'warning',
  plugins: [bundleRequireCjs],
});
