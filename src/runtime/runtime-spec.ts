/**
 * The OCI runtime-spec (config.json) as plain JSON types: the subset kiln
 * writes for Linux containers (runtime-spec v1.0.2, what runc 1.1 reads).
 */
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface User {
  uid: number;
  gid: number;
  additionalGids?: number[];
  username?: string;
}

export interface Capabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
}

export interface Namespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface DeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface Resources {
  devices?: DeviceCgroup[];
  memory?: { limit?: number; swap?: number };
  cpu?: { quota?: number; period?: number; shares?: number };
  pids?: { limit: number };
}

export interface Linux {
  namespaces: Namespace[];
  resources?: Resources;
  cgroupsPath?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctl?: Record<string, string>;
}

export interface RuntimeSpec {
  ociVersion: string;
  process: Process;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: Mount[];
  linux: Linux;
  annotations?: Record<string, string>;
}
