import { createRequire } from 'node:module';

/**
 * Loads a CommonJS package (commander, pino, the worker SDK's protocol) with require(), not import: an import of
 * CommonJS from an ES module goes through node's export lexer, whose first use costs every command and the
 * master's start tens of milliseconds and its memory.
 */
export const requireCjs = createRequire(import.meta.url);
