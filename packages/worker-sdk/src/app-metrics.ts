/**
 * The app's own prom-client metrics, for the master's /metrics: zero code, no dependency. If the app loaded
 * prom-client (through require or import, both go through node's CJS cache for a CJS package), its default
 * registry answers getMetricsAsJSON(), the form prom-client's AggregatorRegistry merges across workers.
 */

interface Registry {
  getMetricsAsJSON(): Promise<unknown[]> | unknown[];
}

const PROM_CLIENT_MAIN = /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/;

/** Every copy of prom-client the app loaded (usually one), by its default registry. */
function registries(): Registry[] {
  const found: Registry[] = [];
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!PROM_CLIENT_MAIN.test(file)) continue;
    const register = (mod?.exports as { register?: Partial<Registry> } | undefined)?.register;
    if (typeof register?.getMetricsAsJSON === 'function') found.push(register as Registry);
  }
  return found;
}

/** The app's metrics as JSON, or null when it loaded no prom-client. A metric that fails to collect is the app's. */
export async function appMetrics(): Promise<unknown[] | null> {
  const found = registries();
  if (found.length === 0) return null;
  const all = await Promise.all(found.map(async (r) => r.getMetricsAsJSON()));
  return all.flat();
}
