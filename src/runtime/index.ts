/**
 * The runtime layer's public API (what `kiln run/ps/logs/exec/stop/rm` call):
 *   prepareContainer → startMonitor (detached) | runForeground
 *   → waitExit / stopContainer / execInContainer / readLogs → removeContainer
 */
export type { NetworkMode, RunOptions, HostFeatures } from './options.js';
export type { Mount, RuntimeSpec, Process } from './runtime-spec.js';
export { buildSpec, type SpecInput } from './spec.js';
export { detectHost } from './host.js';
export { readUserDb, resolveUser, type UserDb, type ResolvedUser } from './user.js';
export { writeEtcFiles, hostsFile, resolvConf, type EtcOptions } from './etc.js';
export { containerPaths, checkId, runcRoot, type ContainerPaths } from './paths.js';
export {
  createContainer,
  prepareContainer,
  containerStatus,
  listContainers,
  removeContainer,
  type PrepareInput,
  type ContainerStatus,
} from './container.js';
export { Runc, DEFAULT_RUNC, type RuncState } from './runc.js';
export { monitorContainer, runForeground, startMonitor, monitorAlive, exitError, type MonitorOptions } from './monitor.js';
export { waitExit, readExitState, type ExitState } from './exit-state.js';
export { stopContainer, type StopOptions } from './stop.js';
export { execInContainer, type ExecOptions } from './exec.js';
export { readLogs, readCriLog, writeLogs, type LogEntry, type ReadLogsOptions } from './logs.js';
export { CriLogWriter, type LogStream } from './crilog.js';
