/**
 * Volumes on containerd: the same store and calls as the local backend
 * (../../../volumes/), kept beside kiln's containers of the namespace
 * (`--root`/containerd/NAMESPACE/volumes/NAME/_data), bind-mounted by the
 * shim; "in use" is read from kiln's container records in containerd.
 */
import path from 'node:path';
import type { ContainerEngine } from '../../containers.js';
import { volumeCalls } from '../../volumes/calls.js';
import { VolumeStore } from '../../volumes/store.js';
import type { ContainerdConnection } from '../grpc.js';
import type { CtrRecords } from './records.js';

export const volumeStore = (c: { conn: Pick<ContainerdConnection, 'namespace'>; workRoot: string }): VolumeStore => new VolumeStore(path.join(c.workRoot, 'containerd', c.conn.namespace));

export function ctrVolumes(c: { conn: ContainerdConnection; workRoot: string; records: CtrRecords }): Pick<ContainerEngine, 'createVolume' | 'listVolumes' | 'inspectVolume' | 'removeVolume' | 'pruneVolumes'> {
  return volumeCalls({ store: volumeStore(c), containers: () => c.records.list() });
}
