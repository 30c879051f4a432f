#!/usr/bin/env node
// The bin (built to dist/cli.cjs; tsc's dist/cli.js runs the same for older scripts and units that name it). It
// sets its V8 flags (code-cache.ts's BIN_V8_FLAGS says which and why) before the bundle is compiled, then loads
// the CLI from that one CommonJS file (scripts/bundle.mjs says why; `pnpm build` writes both), with the code
// cache the build wrote beside it (code-cache.ts).
import { fileURLToPath } from 'node:url';

import { loadBundle, setBinFlags } from './code-cache.js';

setBinFlags();
const bundle = loadBundle(fileURLToPath(new URL('./bundle/cli.cjs', import.meta.url)));
const { main } = bundle.exports as typeof import('./cli/main.js');
// No top-level await: the bin is CommonJS. A rejection is unhandled, and node reports it as it did an await's.
void main(process.argv);
