/**
 * The process that removes a `-d --rm` container once it exits (docker's
 * daemon does this; on containerd nothing else would): waits on the task,
 * then removes task, network, record, root and directory. containerd
 * restarting meanwhile only makes it wait again.
 *
 * Entry: node reaper.js ADDRESS NAMESPACE SNAPSHOTTER WORKROOT ID
 * (`kiln __kiln-helper reaper …` packaged).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerdConnection } from '../grpc.js';
import { destroyCtr } from './lifecycle.js';
import { CtrRecords } from './records.js';
import { getTask, waitTask } from './tasks.js';

const [address, namespace, snapshotter, workRoot, id] = process.argv.slice(2) as [string, string, string, string, string];

async function main(): Promise<void> {
  for (;;) {
    const conn = new ContainerdConnection(address, namespace);
    try {
      const records = new CtrRecords(conn, snapshotter);
      const rec = await records.get(id);
      if (!rec) return; // removed by someone else
      const task = await getTask(conn, id);
      if (task && task.status !== 'STOPPED') await waitTask(conn, id);
      await destroyCtr({ conn, records, workRoot, unpack: { conn, snapshotter } }, rec);
      return;
    } catch (e) {
      process.stderr.write(`${new Date().toISOString()} ${e instanceof Error ? e.message : String(e)}; retrying\n`);
      await sleep(1000);
    } finally {
      conn.close();
    }
  }
}

void main().then(() => process.exit(0));
