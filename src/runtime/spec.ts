/**
 * buildSpec: an image config plus Docker-style run options → the OCI runtime
 * config.json runc executes. Pure: the rootfs's user database and the
 * machine's cgroup features are inputs (see readUserDb, detectHost).
 */
import { posix } from 'node:path';
import type { ContainerConfig, ImageConfig } from '../oci/types.js';
import { invalidArgument } from '../errors.js';
import { capabilitySet } from './capabilities.js';
import { containerArgs } from './command.js';
import { DEFAULT_RLIMITS, MASKED_PATHS, READONLY_PATHS, defaultDeviceRules, defaultMounts } from './defaults.js';
import { mergeEnv } from './env.js';
import type { HostFeatures, RunOptions } from './options.js';
import type { Mount, Namespace, Resources, RuntimeSpec } from './runtime-spec.js';
import { resolveUser, type UserDb } from './user.js';

export interface SpecInput {
  /** Container id: names the cgroup and gives the default hostname. */
  id: string;
  /** Absolute path of the prepared root filesystem. */
  rootfs: string;
  /** The image config, or just its `config` object. */
  image: ImageConfig | ContainerConfig;
  /** The rootfs's /etc/passwd and /etc/group (readUserDb). */
  userDb: UserDb;
  /** Defaults to a machine with every controller. */
  host?: HostFeatures;
}

export const INIT_PATH = '/sbin/docker-init';
const ALL_FEATURES: HostFeatures = { swapAccounting: true, cpuQuota: true, pids: true, maxNoFile: 1048576 };

function containerConfig(image: ImageConfig | ContainerConfig): ContainerConfig {
  return 'rootfs' in image && 'os' in image ? ((image as ImageConfig).config ?? {}) : (image as ContainerConfig);
}

function namespaces(opts: RunOptions): Namespace[] {
  const ns: Namespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'mount' }];
  if (opts.network !== 'host') ns.push({ type: 'uts' });
  if (opts.network === 'none') ns.push({ type: 'network' });
  else if (typeof opts.network === 'object') ns.push({ type: 'network', path: opts.network.netnsPath });
  return ns;
}

function resources(opts: RunOptions, host: HostFeatures): Resources {
  const r: Resources = { devices: defaultDeviceRules(!!opts.privileged) };
  if (opts.memory !== undefined) {
    if (!(opts.memory >= 6 * 1024 * 1024)) {
      throw invalidArgument(`memory limit ${opts.memory} is too low`, { hint: 'the minimum memory limit is 6MB' });
    }
    // Docker's default --memory-swap is twice --memory, where swap is accounted.
    r.memory = { limit: opts.memory, ...(host.swapAccounting ? { swap: opts.memory * 2 } : {}) };
  }
  if (opts.cpus !== undefined) {
    if (!(opts.cpus > 0)) throw invalidArgument(`invalid --cpus ${opts.cpus}`, { hint: 'give a positive number of CPUs, e.g. 0.5' });
    if (!host.cpuQuota) throw invalidArgument('--cpus: this machine has no CFS quota support', { hint: 'run without --cpus' });
    r.cpu = { period: 100000, quota: Math.round(opts.cpus * 100000) };
  }
  if (opts.pidsLimit !== undefined && opts.pidsLimit > 0) {
    if (!host.pids) throw invalidArgument('--pids-limit: this machine has no pids cgroup', { hint: 'run without --pids-limit' });
    r.pids = { limit: opts.pidsLimit };
  }
  return r;
}

/** Defaults first, then the caller's mounts; a caller mount at the same destination replaces the default. */
function mounts(opts: RunOptions): Mount[] {
  const extra = [...(opts.mounts ?? [])];
  if (opts.init !== undefined) extra.push({ destination: INIT_PATH, type: 'bind', source: opts.init, options: ['rbind', 'ro', 'rprivate'] });
  const taken = new Set(extra.map((m) => posix.normalize(m.destination)));
  return [...defaultMounts(!!opts.privileged).filter((m) => !taken.has(m.destination)), ...extra];
}

export function buildSpec(input: SpecInput, opts: RunOptions): RuntimeSpec {
  const image = containerConfig(input.image);
  const host = input.host ?? ALL_FEATURES;
  const cwd = opts.workdir ?? (image.WorkingDir || '/');
  if (!posix.isAbsolute(cwd)) {
    throw invalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`, { hint: 'use -w /path' });
  }
  const hostname = opts.network === 'host' ? undefined : (opts.hostname ?? input.id.slice(0, 12));
  const user = resolveUser(opts.user ?? image.User, input.userDb, opts.groupAdd);
  let args = containerArgs(image, opts);
  if (opts.init !== undefined) args = [INIT_PATH, '--', ...args];
  const caps = capabilitySet(opts);
  const privileged = !!opts.privileged;
  const namespaced = opts.network !== 'host';
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: !!opts.tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}) },
      args,
      env: mergeEnv(image.Env, opts.env, { ...(hostname !== undefined ? { hostname } : {}), home: user.home, tty: !!opts.tty }),
      cwd: posix.normalize(cwd),
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: DEFAULT_RLIMITS.map((r) => ({ ...r, hard: Math.min(r.hard, host.maxNoFile), soft: Math.min(r.soft, host.maxNoFile) })),
      noNewPrivileges: opts.noNewPrivileges ?? !privileged,
    },
    root: { path: input.rootfs, readonly: !!opts.readOnly },
    ...(hostname !== undefined ? { hostname } : {}),
    mounts: mounts(opts),
    linux: {
      namespaces: namespaces(opts),
      resources: resources(opts, host),
      cgroupsPath: `/kiln/${input.id}`,
      ...(privileged ? {} : { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
      ...(namespaced
        ? { sysctl: { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' } }
        : {}),
    },
  };
}
