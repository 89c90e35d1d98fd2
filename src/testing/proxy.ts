/**
 * A TCP proxy on 127.0.0.1 that forwards to a port and slows what comes back
 * to a given rate: a real registry behind it, a pull through it lasts long
 * enough for a test to interrupt it.
 */
import net from 'node:net';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SlowProxy {
  port: number;
  /** `127.0.0.1:PORT`, a registry host name that reaches the target through the proxy. */
  host: string;
  close(): Promise<void>;
}

function throttle(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      (async () => {
        for (let i = 0; i < chunk.length; i += 16 * 1024) {
          const part = chunk.subarray(i, i + 16 * 1024);
          this.push(part);
          await sleep(Math.ceil((part.length / bytesPerSecond) * 1000));
        }
      })().then(() => cb(), cb);
    },
  });
}

export async function startSlowProxy(targetPort: number, bytesPerSecond: number): Promise<SlowProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const drop = () => (client.destroy(), upstream.destroy());
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(throttle(bytesPerSecond)).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
