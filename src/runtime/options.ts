/** What `kiln run` / `kiln create` ask of a container, in Docker's terms. */
import type { Mount } from './runtime-spec.js';

/** `--network`: the host's stack, only loopback, or a namespace prepared elsewhere (CNI). */
export type NetworkMode = 'host' | 'none' | { netnsPath: string };

export interface RunOptions {
  /** Replaces the image's Cmd (`docker run IMAGE CMD...`). */
  cmd?: string[];
  /** Replaces the image's Entrypoint; `[]` clears it (`--entrypoint ""`). */
  entrypoint?: string[];
  /** `-e K=V` (or `K` alone to unset nothing: kept verbatim), over the image's Env. */
  env?: string[];
  /** `-u name|uid[:group|gid]`. */
  user?: string;
  /** `--group-add`: extra group names or ids. */
  groupAdd?: string[];
  /** `-w`: absolute path inside the container. */
  workdir?: string;
  /** `-h`; defaults to the first 12 characters of the container id. */
  hostname?: string;
  tty?: boolean;
  /** `--read-only`: the root filesystem is mounted read-only. */
  readOnly?: boolean;
  privileged?: boolean;
  /** `--cap-add` / `--cap-drop`, with or without `CAP_`; `ALL` is understood. */
  capAdd?: string[];
  capDrop?: string[];
  /** `-m`, bytes. */
  memory?: number;
  /** `--cpus`, e.g. 1.5. */
  cpus?: number;
  /** `--pids-limit`. */
  pidsLimit?: number;
  network: NetworkMode;
  /** Extra mounts (volumes, binds, tmpfs, the generated /etc files). */
  mounts?: Mount[];
  /**
   * `--init`: path on the host of a static init (tini-static) that is bound
   * at /sbin/docker-init and runs the command as its child.
   */
  init?: string;
  /** Defaults to true unless privileged (kiln hardens by default). */
  noNewPrivileges?: boolean;
}

/** What the machine supports, found by `detectHost()`; kept apart so `buildSpec` stays pure. */
export interface HostFeatures {
  /** memory.memsw.* exists (cgroup v1) or memory.swap.max (v2). */
  swapAccounting: boolean;
  /** The cpu controller accepts a CFS quota. */
  cpuQuota: boolean;
  pids: boolean;
  /** The hard RLIMIT_NOFILE kiln may give (containers get min(this, 1048576)). */
  maxNoFile: number;
}
