/** `docker create` flags → the runtime's run options (src/runtime/options.ts), the same on every backend that runs runc. */
import type { RunOptions } from '../../runtime/index.js';
import type { ContainerSpec } from '../containers.js';

/** The static init bound at /sbin/docker-init for `--init`. */
export const TINI = process.env.KILN_INIT ?? '/usr/bin/tini-static';

export function runOptions(s: ContainerSpec): Omit<RunOptions, 'network'> {
  return {
    ...(s.cmd && s.cmd.length > 0 ? { cmd: s.cmd } : {}),
    ...(s.entrypoint !== undefined ? { entrypoint: s.entrypoint } : {}),
    ...(s.env ? { env: s.env } : {}),
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.workdir !== undefined ? { workdir: s.workdir } : {}),
    ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
    tty: !!s.tty,
    readOnly: !!s.readOnly,
    privileged: !!s.privileged,
    ...(s.capAdd ? { capAdd: s.capAdd } : {}),
    ...(s.capDrop ? { capDrop: s.capDrop } : {}),
    ...(s.memory !== undefined ? { memory: s.memory } : {}),
    ...(s.cpus !== undefined ? { cpus: s.cpus } : {}),
    ...(s.pidsLimit !== undefined ? { pidsLimit: s.pidsLimit } : {}),
    ...(s.init ? { init: TINI } : {}),
  };
}
