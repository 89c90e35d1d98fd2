/** docker's `--restart`: parsed once for every backend; kube honours it (the pod's restartPolicy), containerd `always`/`unless-stopped` (its restart monitor: ../containerd/containers/restart.ts), local refuses it in one line. */
import { invalidArgument, unimplemented } from '../../errors.js';
import type { ContainerSpec, CreateOptions } from '../containers.js';

export type RestartPolicy = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export function parseRestart(text: string, autoRemove: boolean): RestartPolicy {
  if (!/^(no|always|unless-stopped|on-failure)$/.test(text)) {
    const retries = /^on-failure:\d+$/.test(text);
    throw invalidArgument(`invalid restart policy "${text}"`, { hint: retries ? 'a maximum retry count is not supported: give --restart on-failure' : 'use no, on-failure, always or unless-stopped' });
  }
  if (autoRemove && text !== 'no') throw invalidArgument(`conflicting options: --restart ${text} and --rm`, { hint: 'drop one of them' });
  return text as RestartPolicy;
}

export function refuseRestart(spec: ContainerSpec, backend: string): void {
  if (spec.restart && spec.restart !== 'no') {
    throw unimplemented(`--restart ${spec.restart} is not supported on the ${backend} backend yet`, { hint: "restart it yourself (kiln start), or use --backend kube (the pod's restartPolicy)" });
  }
}

/** `run --platform` picks one platform of a multi-platform image: the local backend does it (QEMU for a foreign one); the others refuse in one line. */
export function refusePlatform(opts: CreateOptions, backend: string): void {
  if (opts.platform) {
    throw unimplemented(`run --platform is not supported on the ${backend} backend yet`, { hint: "drop --platform: the node's own platform of the image runs" });
  }
}
