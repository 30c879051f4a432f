// Writes dist/bundle/cli.cjs.cache and master.cjs.cache, the V8 code caches the bin loads the bundles with
// (src/code-cache.ts says why and when one is trusted). Run by scripts/bundle.mjs in a node of its own, with the
// bin's V8 flags (BIN_V8_FLAGS): V8 takes a cache only under the flags it was made with. The bytecode is that of
// each bundle's start, and of `supervise --version` in the full CLI, the part every command runs; the rest
// compiles lazily, as before.
const { loadBundle, setBinFlags, writeCodeCache } = await import('../dist/code-cache.js');
setBinFlags();
const file = (name) => new URL(`../dist/bundle/${name}.cjs`, import.meta.url).pathname;
const argv = [process.execPath, new URL('../dist/cli.cjs', import.meta.url).pathname, '--version'];

// The master's: its start, and its answer to arguments that are no run (its main's first step).
const master = loadBundle(file('master'), { compileCache: false });
if ((await master.exports.main(argv)) !== 'not-a-run') throw new Error('the master bundle ran --version');
writeCodeCache(file('master'), master.produce());

// --version ends in process.exit: the full CLI's cache is written at the exit.
const cli = loadBundle(file('cli'), { compileCache: false });
process.once('exit', () => writeCodeCache(file('cli'), cli.produce()));
await cli.exports.main(argv);
