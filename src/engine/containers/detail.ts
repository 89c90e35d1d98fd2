/** What `inspect` and `ps` show of a container, from its record and its live state: one mapping for every backend. */
import type { ContainerDetail, ContainerState, ContainerSpec, MountPoint, PortBinding } from '../containers.js';

/** The fields of a backend's container record the detail is made of. */
export interface DetailRecord {
  id: string;
  name: string;
  image: string;
  imageId: string;
  args: string[];
  created: string;
  startedAt?: string;
  ports: PortBinding[];
  spec: ContainerSpec;
  restartCount: number;
  ip?: string;
  mounts: MountPoint[];
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
