export { createSupervisor, Supervisor } from './supervisor.js';
export type { Phase, RolloutSummary, SupervisorEvents, WorkerInfo } from './supervisor.js';
export type { RawOptions, SupervisorOptions } from './options.js';
export { resolveOptions } from './options.js';
export { EXIT, SuperviseError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ExitInfo } from './worker.js';
export type { WorkerState } from './worker-state.js';
