/**
 * The kubelet's cgroup root, made in every mounted hierarchy (cgroup v1
 * controllers, the named systemd one and the unified v2 one, as on hybrid
 * hosts) before the kubelet starts, and removed, with whatever the kubelet
 * and runc made below it, after every process in it is killed.
 */
import { readFile, readdir, rmdir, writeFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mount points of cgroup and cgroup2 file systems. */
export async function cgroupMounts(): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text.split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2').map((f) => f[1]!);
}

export async function createCgroupRoot(root: string): Promise<void> {
  for (const mount of await cgroupMounts()) {
    const dir = path.join(mount, root);
    await mkdir(dir, { recursive: true });
    // A new cpuset cgroup has no CPUs or memory nodes: copy the parent's.
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const parent = await readFile(path.join(path.dirname(dir), file), 'utf8').catch(() => undefined);
      if (parent !== undefined && (await readFile(path.join(dir, file), 'utf8')).trim() === '') await writeFile(path.join(dir, file), parent.trim());
    }
  }
}

/** Every cgroup directory under root in every hierarchy, deepest first. */
async function cgroupDirs(root: string): Promise<string[]> {
  const dirs: string[] = [];
  const walk = async (dir: string) => {
    dirs.push(dir);
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  for (const mount of await cgroupMounts()) {
    const dir = path.join(mount, root);
    if (await stat(dir).then(() => true, () => false)) await walk(dir);
  }
  return dirs.sort((a, b) => b.length - a.length);
}

/** The processes in any cgroup under root. */
export async function processesInCgroup(root: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of await cgroupDirs(root)) {
    const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) pids.add(Number(line));
  }
  return [...pids];
}

/** SIGKILLs every process under root until none is left, then removes the cgroups, deepest first. */
export async function removeCgroupRoot(root: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await processesInCgroup(root);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} in cgroup ${root} did not die`);
    await sleep(50);
  }
  for (const dir of await cgroupDirs(root)) {
    for (let i = 0; ; i++) {
      try {
        await rmdir(dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
        await sleep(50);
      }
    }
  }
}
