import type https from 'node:https';
import type tls from 'node:tls';

interface Builtins {
  https: typeof https;
  tls: typeof tls;
}

// Literal requires, so that a bundler (the supervisor bundles this engine into one preload file) sees them.
const load: { [K in keyof Builtins]: () => Builtins[K] } = {
  https: () => require('node:https') as typeof https,
  tls: () => require('node:tls') as typeof tls,
};

/** The builtins found loaded: a loaded builtin stays loaded, so the list is not scanned for it again. */
const seen: { [K in keyof Builtins]?: Builtins[K] } = {};

/**
 * A builtin module the engine only needs to recognise the objects of (`instanceof`), or null when nothing in
 * this process has loaded it yet: then none of its objects can exist. Requiring node:tls and node:https at the
 * engine's load would cost every worker their compilation (and node:crypto's), for the apps that never serve
 * TLS. Node lists every builtin it has loaded in process.moduleLoadList; without that list, the module is loaded.
 */
export function loadedBuiltin<K extends keyof Builtins>(name: K): Builtins[K] | null {
  const found = seen[name];
  if (found) return found;
  const loaded = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (Array.isArray(loaded) && !loaded.includes(`NativeModule ${name}`)) return null;
  const module = load[name]();
  seen[name] = module;
  return module;
}

/** A TLS server (https, HTTP/2 over TLS, tls.createServer): only if something loaded node:tls. */
export function isTlsServer(server: object): boolean {
  const tls = loadedBuiltin('tls');
  return tls !== null && server instanceof tls.Server;
}
