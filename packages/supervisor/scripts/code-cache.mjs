// Writes dist/bundle/<name>.cjs.cache (`node code-cache.mjs cli` or `master`), the V8 code cache the bin loads
// that bundle with (src/code-cache.ts says why and when one is trusted). Run by scripts/bundle.mjs in a node of
// its own, with the bin's V8 flags (BIN_V8_FLAGS): V8 takes a cache only under the flags it was made with. The
// bytecode is that of the bundle's start and of `supervise --version`, which every command and every run goes
// through; the rest compiles lazily, as before.
const { loadBundle, setBinFlags, writeCodeCache } = await import('../dist/code-cache.js');
const name = process.argv[2];
if (name !== 'cli' && name !== 'master') throw new Error(`code-cache.mjs: cli or master, not ${name}`);
setBinFlags();
const bundle = new URL(`../dist/bundle/${name}.cjs`, import.meta.url).pathname;
const loaded = loadBundle(bundle, { compileCache: false });
// --version ends in process.exit: the cache is written at the exit.
process.once('exit', () => writeCodeCache(bundle, loaded.produce()));
await loaded.exports.main([process.execPath, new URL('../dist/cli.cjs', import.meta.url).pathname, '--version']);
