#!/usr/bin/env node
// The bin. It turns V8's optimizing compiler off (cli/optimizer.ts says why, and when a master turns it back on)
// before any other code is compiled, then loads the CLI from one bundled CommonJS file (scripts/bundle.mjs says
// why; `pnpm build` writes it): the ES module loader would otherwise resolve and link each of its files.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-opt');
const { main } = createRequire(import.meta.url)('./bundle/cli.cjs') as typeof import('./cli/main.js');
await main(process.argv);
