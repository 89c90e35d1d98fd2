/**
 * containerd restarted mid-pull: kiln reports it in one line, no half-image is
 * recorded, the lease kiln held expires by itself (containerd.io/gc.expire)
 * and, once it is gone, containerd's GC frees every blob and snapshot it held;
 * a second pull then works. containerd stopped under a following `kiln events`:
 * one line, exit 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import * as tar from 'tar-stream';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kilnBin } from '../../testing/kiln.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { openLocalEngine } from '../local/engine.js';
import { ContainerdConnection } from './grpc.js';
import { openContainerdEngine } from './engine.js';

let ctd: TestContainerd;
let reg: TestRegistry;
let tmp: string;

/** A root filesystem with one incompressible file of `size` bytes, streamed. */
function bigRootfs(size: number): Readable {
  const pack = tar.pack();
  const entry = pack.entry({ name: 'big.bin', size, mode: 0o644 }, (err) => (err ? pack.destroy(err) : pack.finalize())) as unknown as Writable;
  (async () => {
    for (let done = 0; done < size; done += 1 << 20) {
      if (!entry.write(randomBytes(Math.min(1 << 20, size - done)))) await new Promise<void>((r) => entry.once('drain', () => r()));
    }
    entry.end();
  })().catch((e: Error) => pack.destroy(e));
  return pack as unknown as Readable;
}

before(async () => {
  [ctd, reg, tmp] = await Promise.all([startContainerd(), startRegistry(), tempDir('kiln-ctd-faults-')]);
});
after(async () => {
  await Promise.all([ctd?.stop(), reg?.stop()]);
  await removeDir(tmp);
});

test('containerd restarted mid-pull: one clear line, no image recorded, GC frees what the lease held, a retry works', async () => {
  const name = `${reg.host}/kiln-test/big:1`;
  const local = await openLocalEngine(path.join(tmp, 'local'));
  try {
    await local.importRootfs(bigRootfs(64 << 20), { reference: name });
    await local.push(name);
  } finally {
    await local.close();
  }

  const pull = () =>
    spawn(process.execPath, [kilnBin(), '--root', path.join(tmp, 'unused'), '--backend', 'containerd', '--address', ctd.address, 'pull', '-q', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const child = pull();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  const hung = setTimeout(() => child.kill('SIGKILL'), 60_000); // a hang fails the test below, not the suite

  // Crash containerd once kiln is writing the big layer into it.
  const conn = new ContainerdConnection(ctd.address, 'k8s.io');
  try {
    for (const end = Date.now() + 50_000; ; ) {
      const active = await conn.unary('content', 'ListStatuses', { filters: [] }, 'ingests');
      if ((active.statuses as { offset: number }[]).some((s) => Number(s.offset) > 1 << 20)) break;
      assert.ok(Date.now() < end, 'the pull did not start writing the layer within 50 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    conn.close();
  }
  await ctd.crash();
  const code1 = await exited;
  clearTimeout(hung);
  assert.equal(code1, 1, `kiln pull exited ${code1}: ${stderr}`);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, new RegExp(`^kiln: .*containerd.*${ctd.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|^kiln: containerd: `));

  await ctd.restart();
  assert.equal((await ctd.ctr(['images', 'ls', '-q'])).trim(), '', 'no half-image recorded');
  const leases = await ctd.ctr(['leases', 'ls']);
  const held = /^(kiln-\S+)\s+\S+\s+containerd\.io\/gc\.expire=(\S+)/m.exec(leases);
  assert.ok(held, `kiln's lease survives the crash with an expiry:\n${leases}`);
  const expires = Date.parse(held[2]!);
  assert.ok(expires > Date.now() && expires <= Date.now() + 3600_000, `expires within the hour: ${held[2]}`);

  // What the lease held goes once it is gone (here deleted, as its expiry would).
  await ctd.ctr(['leases', 'rm', '--sync', held[1]!]);
  assert.equal((await ctd.ctr(['content', 'ls', '-q'])).trim(), '', 'no blob left');
  assert.equal((await ctd.ctr(['content', 'active'])).trim().split('\n').length, 1, 'no ingest left (header only)');
  assert.equal((await ctd.ctr(['snapshots', 'ls'])).trim().split('\n').length, 1, 'no snapshot left (header only)');

  const again = pull();
  const code = await new Promise<number>((r) => again.on('close', (c) => r(c ?? -1)));
  assert.equal(code, 0);
  assert.match(await ctd.ctr(['images', 'ls', '-q']), new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
});

test('containerd stopped under kiln events: one clear line naming the socket, exit 1', async () => {
  const engine = await openContainerdEngine({ address: ctd.address });
  const src = `kiln-test/ev-src:1`;
  try {
    await engine.importRootfs(bigRootfs(4096), { reference: src });
  } finally {
    await engine.close();
  }
  const child = spawn(process.execPath, [kilnBin(), '--root', path.join(tmp, 'unused'), '--backend', 'containerd', '--address', ctd.address, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  const hung = setTimeout(() => child.kill('SIGKILL'), 60_000);
  // Live once it prints a tag made with ctr.
  for (let i = 0; i < 30 && !stdout.includes(' image tag '); i++) {
    await ctd.ctr(['images', 'tag', `docker.io/${src}`, `docker.io/kiln-test/ev-probe:${i}`]);
    for (const end = Date.now() + 1000; Date.now() < end && !stdout.includes(' image tag '); ) await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(stdout, / image tag docker\.io\/kiln-test\/ev-probe:\d+ /);
  await ctd.crash();
  const code = await exited;
  clearTimeout(hung);
  await ctd.restart();
  assert.equal(code, 1, stderr);
  assert.equal(
    stderr,
    `kiln: lost the connection to containerd at ${ctd.address} during events (containerd stopped or restarted; run kiln events again once it is up; events in between are not replayed)\n`,
  );
});

test('containerd stopped while a blob write waits for its source: write rejects with one UNAVAILABLE, no unhandled rejection', async () => {
  const { ContainerdContentStore } = await import('./content.js');
  const conn = new ContainerdConnection(ctd.address, 'k8s.io');
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const w = await new ContainerdContentStore(conn).writer(`kiln-faults-${randomBytes(4).toString('hex')}`);
    let release: () => void = () => undefined;
    const more = new Promise<void>((r) => (release = r));
    // Two chunks go out, then the source waits (a slow download) while containerd goes away.
    const source = (async function* () {
      yield randomBytes(1 << 20);
      yield randomBytes(1 << 20);
      await more;
      yield randomBytes(1 << 20);
    })();
    const written = w.write(source);
    await new Promise((r) => setTimeout(r, 300));
    await ctd.crash();
    await new Promise((r) => setTimeout(r, 500)); // the sends fail while the write loop waits for the source
    release();
    await assert.rejects(written, (e: Error & { code?: string }) => e.code === 'UNAVAILABLE');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    conn.close();
    await ctd.restart();
  }
});
