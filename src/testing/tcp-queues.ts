/**
 * The kernel's queues of a loopback TCP connection, read from /proc/net/tcp
 * (Linux; both ends in this network namespace): what the sender has written
 * and the receiver has not ACKed (`tx_queue` of the sending socket), and
 * what the receiver's kernel holds that its program has not read (`rx_queue`
 * of the receiving socket). A test that cuts a connection (an RST drops what
 * the receiver holds unread) waits until both are empty: then the bytes sent
 * before the cut are exactly the bytes the client read, under any load.
 */
import { readFileSync } from 'node:fs';

export interface TcpQueues {
  /** Bytes the sending end wrote that the other end has not ACKed. */
  unacked: number;
  /** Bytes the receiving end's kernel holds that its program has not read. */
  unread: number;
}

/** `127.0.0.1:port` as /proc/net/tcp writes it. */
const loopback = (port: number): string => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The queues of the loopback connection whose sending end has local port `from` and receiving end local port
 * `to`; undefined once either end is gone.
 */
export function tcpQueues(from: number, to: number): TcpQueues | undefined {
  let unacked: number | undefined;
  let unread: number | undefined;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    if (!queues) continue;
    const [tx, rx] = queues.split(':').map((h) => parseInt(h, 16));
    if (local === loopback(from) && remote === loopback(to)) unacked = tx;
    else if (local === loopback(to) && remote === loopback(from)) unread = rx;
  }
  return unacked === undefined || unread === undefined ? undefined : { unacked, unread };
}
