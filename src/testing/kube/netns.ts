/**
 * The node's network namespace: every cluster process runs in it (through
 * `nsenter --net`, which keeps the host's mount namespace so the kubelet's
 * volume mounts are seen by containerd). Inside: lo, and an `eth0` with
 * the node address (not loopback, as the API server wants for the
 * `kubernetes` Service endpoints). Nothing is added to the host's interfaces.
 * `eth0` is one end of a veth pair whose both ends stay in the namespace
 * (kernels without the dummy link type have veth: the CNI bridge needs it).
 */
import { execFile } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const netnsPath = (name: string): string => `/run/netns/${name}`;

export async function createNetns(name: string, nodeCidr: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  const ip = (...args: string[]) => run('ip', ['-n', name, ...args]);
  await ip('link', 'set', 'lo', 'up');
  await ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
  await ip('addr', 'add', nodeCidr, 'dev', 'eth0');
  await ip('link', 'set', 'eth0-peer', 'up');
  await ip('link', 'set', 'eth0', 'up');
  await ip('route', 'add', 'default', 'dev', 'eth0');
}

/** Deletes the namespace's name (its mount under /run/netns); a no-op when it is gone. */
export async function deleteNetns(name: string): Promise<void> {
  if (await exists(netnsPath(name))) await run('ip', ['netns', 'delete', name]);
}

/** The inode identifying the namespace (`net:[INODE]` in /proc/PID/ns/net), or undefined when it is gone. */
export async function netnsInode(name: string): Promise<number | undefined> {
  try {
    return (await stat(netnsPath(name))).ino;
  } catch {
    return undefined;
  }
}

/** Processes whose network namespace has this inode. */
export async function processesInNetns(inode: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => '');
    if (link === `net:[${inode}]`) pids.push(Number(entry));
  }
  return pids;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
