/**
 * The ContainerEngine contract: what `kiln run/create/start/stop/rm/ps/logs/
 * exec/wait/inspect` ask of a backend. Containers are ephemeral, as in k3c:
 * every start gives a fresh root filesystem from the image.
 */
import type { Platform } from '../oci/types.js';
import type { Readable, Writable } from 'node:stream';
import type { ProgressSink } from '../image/progress.js';
import type { ContainerStats } from '../runtime/stats.js';
export type { ContainerStats };
import type { PortBinding } from '../runtime/cni.js';

export type NetworkName = 'bridge' | 'host' | 'none';

/** `docker create` flags, parsed (sizes in bytes, lists verbatim). */
export interface ContainerSpec {
  image: string;
  name?: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  readOnly?: boolean;
  network?: NetworkName;
  init?: boolean;
  memory?: number;
  cpus?: number;
  pidsLimit?: number;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  tty?: boolean;
  interactive?: boolean;
  /** `--rm`: removed when it exits. */
  autoRemove?: boolean;
  /** `-p [IP:]HOST:CONTAINER[/udp]`. */
  publish?: string[];
  dns?: string[];
  addHost?: string[];
  /** `-v NAME:/path`, `-v /host:/path[:ro]`. */
  volumes?: string[];
  /** `--mount type=bind|volume|tmpfs,...`. */
  mounts?: string[];
  /** `--tmpfs /path[:opts]`. */
  tmpfs?: string[];
  labels?: Record<string, string>;
  /** `--restart` (absent: no). */
  restart?: 'no' | 'on-failure' | 'always' | 'unless-stopped';
}

/** `dead`: a container whose making was cut short (its kiln killed); only `rm` and the prunes take it. */
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown' | 'dead';

export type { PortBinding };

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string;
  created: string;
  state: ContainerState;
  /** Exit code when exited (undefined when the monitor died before recording it). */
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  ports: PortBinding[];
  labels: Record<string, string>;
  /** What the backend knows beyond docker's state (kube: the pod was evicted, or deleted outside kiln); `ps` shows it after the status. */
  note?: string;
}

export interface MountPoint {
  type: 'bind' | 'volume' | 'tmpfs';
  name?: string;
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface ContainerDetail extends ContainerSummary {
  spec: ContainerSpec;
  args: string[];
  pid?: number;
  error?: string;
  restartCount: number;
  ip?: string;
  mounts: MountPoint[];
  /** Where the container's files live on this machine. */
  paths: { dir: string; log: string; rootfs?: string };
}

export interface Attach {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

export interface LogOptions {
  follow?: boolean;
  since?: string;
  until?: string;
  tail?: number;
  timestamps?: boolean;
}

export interface ExecSpec {
  args: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  detach?: boolean;
}

export interface ContainerFilter {
  all?: boolean;
  /** `name=`, `status=`, `id=`, `label=`, `ancestor=`; several values of a key are alternatives. */
  filters?: string[];
}

/** Docker's `--pull`: `missing` (the default) pulls an image that is not stored, `always` pulls first, `never` never pulls. */
export type PullPolicy = 'missing' | 'always' | 'never';

export interface CreateOptions {
  pull?: PullPolicy;
  /** `run` starts the container right after (kube makes its pod only for a run: a pod starts when it is made). */
  run?: boolean;
  /** `--platform`: of a multi-platform image, this platform's (a foreign one runs under QEMU). */
  platform?: Platform;
  /** The pull's progress. */
  progress?: ProgressSink;
  /** Told before a pull starts (`missing`: the image was not found locally) and after it ends, so a CLI can print what docker prints. */
  onPull?: { start(reference: string, missing: boolean): void; done(result: { reference: string; digest: string; upToDate: boolean }): void };
}

/** A named volume, as `kiln volume inspect` shows it. */
export interface VolumeInfo {
  name: string;
  driver: string;
  /** Where its data is on the host. */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  scope: 'local';
}

/** `docker cp` flags. */
export interface CopyFlags {
  /** `-a`: keep uid/gid (default: the receiving side's root). */
  archive?: boolean;
  /** `-L`: follow SRC when it is a symlink. */
  followLink?: boolean;
}

/** `docker commit` flags. */
export interface CommitOptions {
  /** REPO[:TAG]; without it the image is <none>:<none>. */
  reference?: string;
  author?: string;
  message?: string;
  /** `-c`: Dockerfile instructions applied to the config. */
  changes?: string[];
  /** Pause the container while its changes are read (default true, as docker). */
  pause?: boolean;
}

export interface ContainerEngine {
  /** Creates the container (pulling the image as the policy says); resolves to its id. */
  createContainer(spec: ContainerSpec, opts?: CreateOptions): Promise<string>;
  /**
   * Starts a container on a fresh root. With `attach`, runs it in the
   * foreground and resolves to its exit code; otherwise resolves once it runs.
   */
  startContainer(ref: string, opts?: { attach?: Attach }): Promise<number | undefined>;
  stopContainer(ref: string, opts?: { timeoutSeconds?: number; signal?: string }): Promise<string>;
  restartContainer(ref: string, opts?: { timeoutSeconds?: number }): Promise<string>;
  killContainer(ref: string, signal?: string): Promise<string>;
  removeContainer(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<string>;
  /** `docker top`: the running container's processes, as `ps` (default `-ef`, or psArgs) shows them. */
  topContainer(ref: string, psArgs?: string[]): Promise<{ titles: string[]; processes: string[][] }>;
  /** `docker diff`: what the running container changed in its root (A added, C changed, D deleted), by path. */
  diffContainer(ref: string): Promise<{ kind: 'A' | 'C' | 'D'; path: string }[]>;
  /**
   * `docker commit`: the running container's changes (one layer, whiteouts for
   * deletions) on top of its image, its config with `changes` applied; resolves to the new image's id.
   */
  commitContainer(ref: string, opts?: CommitOptions): Promise<string>;
  /** `docker export`: the running container's root filesystem as a tar, written to `out`. */
  exportContainer(ref: string, out: Writable): Promise<void>;
  /**
   * `docker cp` between a running container and this machine (SRC/DEST on the
   * host are local paths, or a tar stream for docker's `-`); resolves to the bytes of regular files copied.
   */
  copyFromContainer(ref: string, src: string, dest: string | Writable, flags?: CopyFlags): Promise<number>;
  copyToContainer(ref: string, src: string | Readable, dest: string, flags?: CopyFlags): Promise<number>;
  /**
   * `docker stats --no-stream`: one reading of each container (every running one
   * when none is named) over `intervalMs` (CPU % needs two samples); a named
   * container that is not running reads as zeros, as docker shows it.
   */
  statsContainers(refs: string[], opts?: { intervalMs?: number }): Promise<ContainerStats[]>;
  /** `docker rename`: a new unique name; resolves to the id. */
  renameContainer(ref: string, name: string): Promise<string>;
  listContainers(opts?: ContainerFilter): Promise<ContainerSummary[]>;
  inspectContainer(ref: string): Promise<ContainerDetail>;
  /** Writes the container's log to the streams, as `docker logs` prints it. */
  containerLogs(ref: string, out: { stdout: Writable; stderr: Writable }, opts?: LogOptions): Promise<void>;
  execInContainer(ref: string, exec: ExecSpec, attach?: Attach): Promise<number>;
  /** Resolves to the exit code once the container has exited. */
  waitContainer(ref: string): Promise<number>;
  /** The ids of the images containers use (rmi refuses these without -f). */
  imagesInUse(): Promise<Map<string, string[]>>;
  /** Creates a named volume (a random name when none is given); an existing one is answered as it is. */
  createVolume(name?: string, opts?: { labels?: Record<string, string> }): Promise<VolumeInfo>;
  listVolumes(): Promise<VolumeInfo[]>;
  inspectVolume(name: string): Promise<VolumeInfo>;
  /** Removes a volume; one a container uses only with `force`. Resolves to its name. */
  removeVolume(name: string, opts?: { force?: boolean }): Promise<string>;
  /** Removes every volume no container uses; resolves to their names. */
  pruneVolumes(): Promise<string[]>;
}
