#!/usr/bin/env node
// The bin (built to dist/cli.cjs; tsc's dist/cli.js runs the same for older scripts and units that name it). It
// turns V8's optimizing compiler off (cli/optimizer.ts says why, and when a master turns it back on) before any
// other code is compiled, then loads the CLI from one bundled CommonJS file (scripts/bundle.mjs says why; `pnpm
// build` writes both), with the code cache the build wrote beside it (code-cache.ts).
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

import { loadBundle } from './code-cache.js';

setFlagsFromString('--no-opt');
const bundle = loadBundle(fileURLToPath(new URL('./bundle/cli.cjs', import.meta.url)));
const { main } = bundle.exports as typeof import('./cli/main.js');
// No top-level await: the bin is CommonJS. A rejection is unhandled, and node reports it as it did an await's.
void main(process.argv);
