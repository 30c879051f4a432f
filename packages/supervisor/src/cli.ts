#!/usr/bin/env node
// The bin. It only turns V8's optimizing compiler off (cli/optimizer.ts says why, and when a master turns it back
// on), before any other module is compiled, then loads the CLI: every other import is dynamic for that reason.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-opt');
const { main } = await import('./cli/main.js');
await main(process.argv);
