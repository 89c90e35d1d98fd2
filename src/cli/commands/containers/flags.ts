/** The flags `run` and `create` share, and their parsing into a ContainerSpec. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalidArgument, isErrno, notFound } from '../../../errors.js';
import type { ContainerSpec, NetworkName } from '../../../engine/containers.js';
import { parseRestart } from '../../../engine/containers/restart.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export interface CreateFlags {
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  readOnly?: boolean;
  network: string;
  init?: boolean;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  privileged?: boolean;
  capAdd: string[];
  capDrop: string[];
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  publish: string[];
  dns: string[];
  addHost: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  label: string[];
  pull: string;
  restart?: string;
  platform?: string;
}

export function addCreateFlags(cmd: Command): Command {
  return cmd
    .argument('<image>', 'image name or ID (pulled when missing)')
    .argument('[command...]', 'command and arguments (replace the image Cmd)')
    .passThroughOptions()
    .option('--name <name>', 'assign a name to the container')
    .option('-e, --env <K=V>', 'set an environment variable (K alone takes it from this shell)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file (K=V per line)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'user name or uid[:group|gid]')
    .option('--entrypoint <cmd>', 'replace the image ENTRYPOINT ("" clears it)')
    .option('-h, --hostname <name>', 'container host name')
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--network <mode>', 'bridge (default), host or none', 'bridge')
    .option('--init', 'run an init (tini) as PID 1 that forwards signals and reaps zombies')
    .option('-m, --memory <bytes>', 'memory limit (e.g. 512m, 1g)')
    .option('--cpus <n>', 'number of CPUs (e.g. 0.5)')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--privileged', 'give every capability and device (no confinement)')
    .option('--cap-add <cap>', 'add a Linux capability', collect, [])
    .option('--cap-drop <cap>', 'drop a Linux capability', collect, [])
    .option('-i, --interactive', 'keep standard input open')
    .option('-t, --tty', 'allocate a terminal')
    .option('--rm', 'remove the container when it exits')
    .option('-p, --publish <[ip:]host:container[/udp]>', 'publish a container port on the host (bridge network)', collect, [])
    .option('--dns <ip>', 'nameserver for the container', collect, [])
    .option('--add-host <name:ip>', 'add a line to /etc/hosts', collect, [])
    .option('-v, --volume <src:dst[:ro]>', 'named volume or host directory', collect, [])
    .option('--mount <spec>', 'type=bind|volume|tmpfs,source=…,target=…[,readonly]', collect, [])
    .option('--tmpfs <path[:opts]>', 'mount a tmpfs', collect, [])
    .option('-l, --label <k=v>', 'set a label', collect, [])
    .option('--restart <policy>', 'no (default), on-failure, always or unless-stopped (kube: the pod\'s restartPolicy)')
    .option('--pull <policy>', 'pull the image: missing (default), always or never', 'missing')
    .option('--platform <platform>', 'os/arch[/variant] of a multi-platform image to run (a foreign one runs under QEMU user emulation)');
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's memory sizes: 512m, 1g, 1048576 (binary units). */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (!m) throw invalidArgument(`invalid ${flag} "${text}"`, { hint: 'use a number with an optional unit: b, k, m, g' });
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

function number(text: string | undefined, flag: string, int: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw invalidArgument(`invalid ${flag} "${text}"`, { hint: int ? 'give a whole number' : 'give a number, e.g. 1.5' });
  return n;
}

/** `-e K` takes K from this environment (dropped when unset), as Docker does. */
function envEntry(kv: string): string[] {
  if (kv.includes('=')) return [kv];
  const v = process.env[kv];
  return v === undefined ? [] : [`${kv}=${v}`];
}

export function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw notFound(`env file ${file} not found`, { hint: 'give an existing file to --env-file' });
    throw e;
  }
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .flatMap(envEntry);
}

export function toSpec(image: string, command: string[], f: CreateFlags): ContainerSpec {
  if (!['bridge', 'host', 'none'].includes(f.network)) {
    throw invalidArgument(`network "${f.network}" not found`, { hint: 'use --network bridge, host or none' });
  }
  if (f.workdir !== undefined && !f.workdir.startsWith('/')) {
    throw invalidArgument(`the working directory '${f.workdir}' is invalid, it needs to be an absolute path`, { hint: 'use -w /path' });
  }
  if (f.publish.length > 0 && f.network !== 'bridge') throw invalidArgument(`-p needs the bridge network (not --network ${f.network})`, { hint: 'drop -p or use --network bridge' });
  if (!['missing', 'always', 'never'].includes(f.pull)) throw invalidArgument(`invalid --pull "${f.pull}"`, { hint: 'use missing, always or never' });
  const labels: Record<string, string> = {};
  for (const l of f.label) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const memory = f.memory === undefined ? undefined : parseBytes(f.memory, '--memory');
  const cpus = number(f.cpus, '--cpus', false);
  const pidsLimit = number(f.pidsLimit, '--pids-limit', true);
  const env = [...f.envFile.flatMap(readEnvFile), ...f.env.flatMap(envEntry)];
  const restart = f.restart === undefined ? undefined : parseRestart(f.restart, !!f.rm);
  return {
    image,
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(command.length > 0 ? { cmd: command } : {}),
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint === '' ? [] : [f.entrypoint] } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    ...(f.readOnly ? { readOnly: true } : {}),
    network: f.network as NetworkName,
    ...(f.init ? { init: true } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    ...(pidsLimit !== undefined ? { pidsLimit } : {}),
    ...(f.privileged ? { privileged: true } : {}),
    ...(f.capAdd.length ? { capAdd: f.capAdd } : {}),
    ...(f.capDrop.length ? { capDrop: f.capDrop } : {}),
    ...(f.tty ? { tty: true } : {}),
    ...(f.interactive ? { interactive: true } : {}),
    ...(f.rm ? { autoRemove: true } : {}),
    ...(f.publish.length ? { publish: f.publish } : {}),
    ...(f.dns.length ? { dns: f.dns } : {}),
    ...(f.addHost.length ? { addHost: f.addHost } : {}),
    ...(f.volume.length ? { volumes: f.volume } : {}),
    ...(f.mount.length ? { mounts: f.mount } : {}),
    ...(f.tmpfs.length ? { tmpfs: f.tmpfs } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(restart && restart !== 'no' ? { restart } : {}),
  };
}
