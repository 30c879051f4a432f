export { createSupervisor, Supervisor } from './master/supervisor.js';
export type { Phase, RolloutSummary, SupervisorEvents, WorkerInfo } from './master/supervisor.js';
export type { RawOptions, SupervisorOptions } from './config/options.js';
export { resolveOptions } from './config/options.js';
export { EXIT, SuperviseError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ExitInfo } from './worker/worker-process.js';
export type { WorkerState } from './worker/state.js';
export { startOperations } from './master/ops.js';
export type { Operations, OperationsOptions } from './master/ops.js';
export { findConfigFile, loadConfigFile, mergeOptions } from './config/config-file.js';
export { healthOf } from './observe/health.js';
export type { HealthReport } from './observe/health.js';
export { defaultControlPath, discoverControlPath } from './control/paths.js';
export { sendRequest } from './control/client.js';
export type { ReplyLine } from './control/client.js';
export type { MasterStatus, RolloutReply, StatusReply, WorkerStatus } from './control/reply.js';
export type {
  ControlApi,
  ControlCommand,
  ControlReplies,
  ControlRequest,
  ReplyOf,
  RequestOf,
} from './control/api.js';
