/** What `inspect` and `ps` show of a container, from its record and its live state: one mapping for every backend. */
import type { ContainerDetail, ContainerState, ContainerSpec, MountPoint, PortBinding } from '../containers.js';

/**
 * What every backend keeps about a container between commands (each record
 * type extends it: local's ContainerRecord, containerd's CtrRecord), and what
 * the detail is made of.
 */
export interface DetailRecord {
  id: string;
  name: string;
  created: string;
  spec: ContainerSpec;
  /** The normalized image reference and the image ID (config digest) at create time. */
  image: string;
  imageId: string;
  /** The process args (entrypoint + cmd) as Docker shows them. */
  args: string[];
  startedAt?: string;
  /** Set by the last start. */
  restartCount: number;
  /** The address the container had on the bridge at its last start. */
  ip?: string;
  ports: PortBinding[];
  mounts: MountPoint[];
  /** The last exit, kept when the runtime's state of that run is gone (a new start, a deleted task). */
  lastExit?: { exitCode: number; finishedAt: string; error?: string };
}

/** What the backend reads of the running (or exited) process. */
export interface DetailLive {
  state: ContainerState;
  exitCode?: number;
  finishedAt?: string;
  pid?: number;
  error?: string;
}

export function containerDetail(rec: DetailRecord, live: DetailLive, paths: ContainerDetail['paths']): ContainerDetail {
  const running = live.state === 'running';
  return {
    id: rec.id,
    name: rec.name,
    image: rec.image,
    imageId: rec.imageId,
    command: rec.args.join(' '),
    created: rec.created,
    state: live.state,
    ...(live.exitCode !== undefined ? { exitCode: live.exitCode } : {}),
    ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
    ...(live.finishedAt ? { finishedAt: live.finishedAt } : {}),
    ports: running ? rec.ports : [],
    labels: rec.spec.labels ?? {},
    spec: rec.spec,
    args: rec.args,
    ...(live.pid !== undefined ? { pid: live.pid } : {}),
    ...(live.error ? { error: live.error } : {}),
    restartCount: rec.restartCount,
    ...(rec.ip && running ? { ip: rec.ip } : {}),
    mounts: rec.mounts,
    paths,
  };
}
