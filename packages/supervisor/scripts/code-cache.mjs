// Writes dist/bundle/cli.cjs.cache, the V8 code cache the bin loads the bundle with (src/code-cache.ts says why
// and when it is trusted). Run by scripts/bundle.mjs in a node of its own, with the bin's V8 flags
// (BIN_V8_FLAGS): V8 takes a cache only under the flags it was made with. The bytecode is that of the bundle's
// start and of `supervise --version`, the part every command runs; the rest compiles lazily, as before.
const { loadBundle, setBinFlags, writeCodeCache } = await import('../dist/code-cache.js');
setBinFlags();
const bundle = new URL('../dist/bundle/cli.cjs', import.meta.url).pathname;
const loaded = loadBundle(bundle, { compileCache: false });
process.once('exit', () => writeCodeCache(bundle, loaded.produce()));
await loaded.exports.main([process.execPath, new URL('../dist/cli.cjs', import.meta.url).pathname, '--version']);
