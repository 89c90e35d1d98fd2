/**
 * `-p HOST:CONTAINER` on the kube backend: a local listener on this machine
 * whose connections reach the pod's port through the API server's
 * port-forward (../../../kube/tunnel.ts), open while a foreground `run` (or,
 * for `run -d`, the keeper process) lives.
 */
import net from 'node:net';
import { alreadyExists, isErrno, isKilnError } from '../../../errors.js';
import type { Kube } from '../../../kube/kubeconfig.js';
import { openTunnel, type Tunnel } from '../../../kube/tunnel.js';
import type { PortBinding } from '../../containers.js';

const inUse = (p: PortBinding, cause?: unknown) =>
  alreadyExists(`cannot publish port ${p.hostIp}:${p.hostPort}: it is already in use on this machine`, { cause, hint: 'pick another host port with -p HOST:CONTAINER' });

/** Fails in one line when a host port is taken, before any pod is made. */
export async function checkPortsFree(ports: PortBinding[]): Promise<void> {
  for (const p of ports) {
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e) => reject(isErrno(e, 'EADDRINUSE') ? inUse(p, e) : e));
      s.listen(p.hostPort, p.hostIp, () => s.close(() => resolve()));
    });
  }
}

export interface Forwards {
  close(): Promise<void>;
}

export async function forwardPorts(k: Kube, pod: string, ports: PortBinding[]): Promise<Forwards> {
  const open: Tunnel[] = [];
  const close = async () => {
    await Promise.all(open.map((t) => t.close()));
  };
  try {
    for (const p of ports) open.push(await openTunnel(k, pod, p.containerPort, { host: p.hostIp, port: p.hostPort }));
  } catch (e) {
    await close();
    if (!isKilnError(e) && isErrno(e, 'EADDRINUSE')) throw inUse(ports[open.length]!, e);
    throw e;
  }
  return { close };
}
