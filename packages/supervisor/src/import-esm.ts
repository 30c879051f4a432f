/**
 * import() of what the bundle cannot take in: a config file's URL, chokidar (an ES module package). The bin
 * compiles the bundle itself, with a code cache (code-cache.ts), and V8 then has no import() callback of node's:
 * loadBundle hands its own import() over under this symbol. Outside the bundle (dist/ run by tsc's output, the
 * tests) it is node's import(), as before.
 */
export const IMPORT_HOOK = Symbol.for('supervise.import');

export function importEsm<T>(specifier: string): Promise<T> {
  const hook = (globalThis as Record<symbol, unknown>)[IMPORT_HOOK] as ((s: string) => Promise<unknown>) | undefined;
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
