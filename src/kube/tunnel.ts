/**
 * A local TCP port on 127.0.0.1 that reaches a port of a pod through the API
 * server's port-forward (the client library's PortForward: one WebSocket per
 * connection; for the agent, the first is the one opened to check the forward
 * works), so the kube backend works wherever kubectl does. The remote
 * engine's gRPC client dials the local end; HTTP/2's flow control bounds what
 * is in flight, so nothing layer-sized is buffered here.
 */
import net from 'node:net';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
// The module alone, not the package's index (every API group): a command that only tunnels loads little.
import { PortForward } from '@kubernetes/client-node/dist/portforward.js';
import type { KilnError } from '../errors.js';
import { notFound, permissionDenied, unauthenticated, unavailable } from '../errors.js';
import { kubeError, where } from './errors.js';
import type { Target } from './errors.js';
import type { WsConfig } from './lite-config.js';

/** Where to forward: the client library's KubeConfig or ./lite-config's stand-in, the namespace, and names for messages. */
export type TunnelTarget = Target & { namespace: string; kc: WsConfig | KubeConfig };

export interface Tunnel {
  /** `tcp://127.0.0.1:PORT`. */
  host: string;
  port: number;
  /** What the API server or kubelet said on the port's error channel, most recent last. */
  errors: string[];
  close(): Promise<void>;
}

type Socketish = { close(): void; on(ev: string, fn: (...a: unknown[]) => void): void; readyState: number };

/** A failed WebSocket upgrade (`Unexpected server response: 403`) or dial → one line naming the pod. */
function forwardError(e: unknown, k: TunnelTarget, pod: string, port: number): KilnError {
  const m = /Unexpected server response: (\d+)/.exec((e as Error)?.message ?? '');
  const target = `pod ${k.namespace}/${pod} port ${port}`;
  switch (m?.[1]) {
    case '401':
      return unauthenticated(`cannot port-forward to ${target}: the API server of ${where(k)} refused the credentials`, { cause: e, hint: 'renew them (kubectl get nodes should work)' });
    case '403':
      return permissionDenied(`cannot port-forward to ${target} in ${where(k)}: forbidden`, { cause: e, hint: `ask for create on pods/portforward in namespace ${k.namespace} (the kiln-client Role), or use another context with -x` });
    case '404':
      return notFound(`cannot port-forward to ${target} in ${where(k)}: the pod is gone`, { cause: e, hint: 'run the command again (the agent may be restarting)' });
    case undefined:
      return kubeError(e, k, `port-forward to ${target}`);
    default:
      return unavailable(`cannot port-forward to ${target} in ${where(k)}: the API server answered ${m![1]}`, { cause: e, hint: 'kubectl port-forward should work; see the API server and kubelet logs' });
  }
}

/**
 * `listen`: the local address (default 127.0.0.1 and a free port); `kiln run -p` gives the user's.
 * `reuseProbe`: the first connection gets the WebSocket opened to check the forward (the agent's
 * tunnel, dialled at once); not for a user's port (`run -p`), whose first client may come much
 * later, or before the process listens.
 */
export async function openTunnel(k: TunnelTarget, pod: string, port: number, listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 }, o: { reuseProbe?: boolean } = {}): Promise<Tunnel> {
  const errors: string[] = [];
  const errSink = () =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        const text = chunk.toString('utf8').trim();
        if (text) errors.push(text);
        if (errors.length > 20) errors.shift();
        cb();
      },
    });
  const forward = (output: Writable, input: Readable) => new PortForward(k.kc as KubeConfig, true).portForward(k.namespace, pod, [port], output, errSink(), input) as Promise<Socketish>;

  // Fail here, in one line, when the forward cannot be opened at all (no rights, no pod, no server).
  // With reuseProbe, the WebSocket that proves it is kept for the first connection (the gRPC
  // client's), so a command pays for one upgrade, not two.
  let spare: { ws: Socketish; output: PassThrough; input: PassThrough } | undefined;
  try {
    const output = new PassThrough();
    const input = new PassThrough();
    const ws = await forward(output, input);
    if (!o.reuseProbe) {
      output.resume();
      ws.close();
    } else spare = { ws, output, input };
    ws.on('close', () => {
      if (spare?.ws === ws) spare = undefined;
    });
    ws.on('error', () => {
      if (spare?.ws === ws) spare = undefined;
    });
  } catch (e) {
    throw forwardError(e, k, pod, port);
  }
  const take = (socket: net.Socket): Promise<Socketish> => {
    const s = spare;
    spare = undefined;
    if (!s || s.ws.readyState !== 1) {
      s?.ws.close();
      return forward(socket, socket);
    }
    s.output.pipe(socket);
    socket.pipe(s.input);
    return Promise.resolve(s.ws);
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    take(socket).then(
      (ws) => {
        ws.on('close', () => socket.end());
        ws.on('error', (e) => {
          errors.push(String((e as Error)?.message ?? e));
          socket.destroy();
        });
        socket.on('close', () => ws.close());
        if (socket.destroyed) ws.close();
      },
      (e) => {
        errors.push(forwardError(e, k, pod, port).message);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const local = (server.address() as net.AddressInfo).port;
  server.unref();
  return {
    host: `tcp://${listen.host}:${local}`,
    port: local,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        spare?.ws.close();
        spare = undefined;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
