/**
 * Streams a build context into the build container's stdin through the API
 * server: a `pods/attach` WebSocket (the client library's handler: TLS,
 * tokens, the channel protocols) carrying stdin only. Each chunk waits for
 * the previous one to be written to the socket, so the context is never
 * held in memory; at the end the stdin channel is closed (v5.channel.k8s.io's
 * CLOSE) and the container sees end of file. The socket stays open until
 * close(): with stdinOnce the runtime closes stdin when it goes.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
// Not re-exported by the package's index; the package has no exports map, so this path is public.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { cancelled, notFound, permissionDenied, unauthenticated, unavailable, type KilnError } from '../../errors.js';
import { kubeError, where, type Target } from '../errors.js';

const STDIN = 0;
const CLOSE = 255;
const OPEN = 1;

type Socket = Awaited<ReturnType<WebSocketHandler['connect']>>;

export interface Upload {
  /** Resolves with the bytes sent once the stream has ended and stdin is closed. */
  done: Promise<number>;
  /** Closes the WebSocket (the attach session ends). */
  close(): void;
}

function attachError(e: unknown, t: Target, pod: string): KilnError {
  const status = /Unexpected server response: (\d+)/.exec((e as Error)?.message ?? '')?.[1];
  const what = `attach to pod ${pod} to send the build context`;
  switch (status) {
    case '401':
      return unauthenticated(`cannot ${what}: the API server of ${where(t)} refused the credentials`, { cause: e, hint: 'renew them (kubectl get nodes should work)' });
    case '403':
      return permissionDenied(`cannot ${what} in ${where(t)}: forbidden`, { cause: e, hint: 'ask for create on pods/attach in the namespace, or use another context with -x' });
    case '404':
      return notFound(`cannot ${what} in ${where(t)}: the pod is gone`, { cause: e });
    case undefined:
      return kubeError(e, t, what);
    default:
      return unavailable(`cannot ${what} in ${where(t)}: the API server answered ${status}`, { cause: e, hint: 'kubectl attach should work; see the API server and kubelet logs' });
  }
}

function send(ws: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ws.readyState !== OPEN) return reject(new Error('the attach session closed'));
    ws.send(data, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

/**
 * Attaches to `container` of `pod` with stdin only and sends `body` into it.
 * `signal` aborts the upload (the body is destroyed).
 */
export async function uploadStdin(kc: KubeConfig, t: Target & { namespace: string }, pod: string, container: string, body: Readable, signal?: AbortSignal): Promise<Upload> {
  const quiet = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const handler = new WebSocketHandler(kc, undefined, quiet);
  const path = `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(pod)}/attach?container=${encodeURIComponent(container)}&stdin=true&stdout=false&stderr=false&tty=false`;
  let ws: Socket;
  try {
    ws = await handler.connect(path, null, () => true);
  } catch (e) {
    body.destroy();
    throw attachError(e, t, pod);
  }
  let closedEarly = false;
  ws.on('close', () => {
    closedEarly = true;
  });
  const done = (async () => {
    let sent = 0;
    const onAbort = () => body.destroy(cancelled('the upload of the build context was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (closedEarly) throw new Error('the attach session closed before the whole context was sent');
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = STDIN;
        chunk.copy(frame, 1);
        await send(ws, frame);
        sent += chunk.length;
      }
      // End of file on the container's stdin: v5 closes the channel; older protocols only by closing the socket.
      if (ws.protocol === 'v5.channel.k8s.io') await send(ws, Buffer.from([CLOSE, STDIN]));
      else ws.close();
      return sent;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  })();
  done.catch(() => ws.close());
  return { done, close: () => ws.close() };
}
