/**
 * Injected by the master into every worker with `--require`, before the app's own code (CJS or ESM). It makes
 * an app that never imports the SDK drain losslessly: it only observes (node:diagnostics_channel), and acts
 * only when the master asks for a drain. Outside a supervise worker it does nothing.
 */
import { ENV } from './protocol.js';

if (process.env[ENV.worker] !== undefined && typeof process.send === 'function') {
  // `supervise inspect|heap-snapshot|report` reach every worker, with or without the engine.
  (require('./debug.js') as typeof import('./debug.js')).attachDebug();
  if (process.env[ENV.autoDrain] === '0') {
    // --no-auto-drain: no engine, but a terminal's Ctrl+C (sent to the whole process group) must still leave
    // the decision to the master rather than kill requests in flight.
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
    // --sticky hands connections over to every worker, with or without the engine.
    (require('./handover.js') as typeof import('./handover.js')).attachHandover(null);
  } else {
    // Required here, not imported at the top: with --no-auto-drain the engine must not even be loaded.
    const { getRuntime } = require('./runtime.js') as typeof import('./runtime.js');
    getRuntime().attachPreload();
  }
}
