/**
 * Interrupted remote calls: Ctrl-C on `kiln --host … pull` cancels the pull
 * on the agent (no image recorded, the agent keeps serving); an agent killed
 * mid-pull is reported in one line, and after its restart a retry works.
 * The registry is real; a slow proxy in front of it makes the pull last.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tar from 'tar-stream';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { kilnBin, kilnOk } from '../../testing/kiln.js';
import { startSlowProxy, type SlowProxy } from '../../testing/proxy.js';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import type { Engine } from '../engine.js';
import { openRemoteEngine } from './engine.js';

let agent: TestAgent;
let registry: TestRegistry;
let proxy: SlowProxy;
let engine: Engine;
let dir: string;
let id: string;
const LAYER = 6 << 20;

async function randomRootfs(): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  pack.entry({ name: 'random.bin', mode: 0o644 }, randomBytes(LAYER));
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

/** Starts `kiln pull` through the agent; resolves once a layer is downloading, with the child's end. */
async function pullUntilDownloading(ref: string): Promise<{ exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>; kill: (s: NodeJS.Signals) => void }> {
  const child = spawn(process.execPath, [kilnBin(), '--root', path.join(dir, 'client'), 'pull', ref], { env: { ...process.env, ...agent.clientEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (/Downloading/.test(stdout)) resolve();
    });
    exit.then((r) => reject(new Error(`kiln pull ended before downloading: ${JSON.stringify(r)}`)));
  });
  return { exit, kill: (s) => child.kill(s) };
}

async function waitForLog(re: RegExp, ms = 20_000): Promise<string> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const log = await agent.log();
    if (re.test(log)) return log;
  }
  throw new Error(`the agent's log never matched ${re}:\n${await agent.log()}`);
}

before(async () => {
  dir = await tempDir('kiln-agent-faults-');
  [agent, registry] = await Promise.all([startAgent(), startRegistry()]);
  proxy = await startSlowProxy(Number(registry.host.split(':')[1]), 1 << 20);
  engine = await openRemoteEngine({ host: agent.tcp!, tls: agent.tlsFiles });
  id = await engine.importRootfs(Readable.from([await randomRootfs()]), { reference: `${registry.host}/slow:1` });
  await engine.push(`${registry.host}/slow:1`);
  await engine.removeImages([id], { force: true });
});
after(async () => {
  await engine?.close();
  await agent?.stop();
  await proxy?.close();
  await registry?.stop();
  await removeDir(dir);
});

describe('remote calls interrupted', { timeout: 240_000 }, () => {
  test('Ctrl-C on a remote pull cancels it on the agent: nothing recorded, the agent keeps serving', async () => {
    const ref = `${proxy.host}/slow:1`;
    const pull = await pullUntilDownloading(ref);
    pull.kill('SIGINT');
    const r = await pull.exit;
    assert.ok(r.signal === 'SIGINT' || (r.code ?? 0) !== 0, `the CLI ended ${r.code ?? r.signal}`);
    await waitForLog(new RegExp(`Pull ${ref.replace(/\./g, '\\.')}: cancelled by the client after \\d+ ms`));
    await assert.rejects(engine.inspectImage(ref), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
    assert.equal((await engine.info()).backend, 'remote');
  });

  test('the agent killed mid-pull: the CLI says so in one line; after a restart the pull works', async () => {
    const ref = `${proxy.host}/slow:1`;
    const pull = await pullUntilDownloading(ref);
    await agent.kill();
    const r = await pull.exit;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^kiln: lost the connection to the kiln agent at ${agent.tcp!.replace(/\./g, '\\.')} during pull ${ref.replace(/\./g, '\\.')} \\(the agent stopped or restarted; run the command again once it is up\\)\\n$`));
    await agent.restart();
    const again = await kilnOk(['pull', '-q', `${registry.host}/slow:1`], { root: path.join(dir, 'client'), env: agent.clientEnv });
    assert.equal(again.stdout, `${registry.host}/slow:1\n`);
    const fresh = await openRemoteEngine({ host: agent.tcp!, tls: agent.tlsFiles });
    try {
      assert.equal((await fresh.inspectImage(`${registry.host}/slow:1`)).id, id);
      assert.deepEqual(await fresh.check(), []);
    } finally {
      await fresh.close();
    }
  });
});

test('save and load of an image with a 6 MiB layer travel in chunks of at most 1 MiB, both ways', { timeout: 240_000 }, async () => {
  const ref = `${registry.host}/slow:1`;
  const file = path.join(dir, 'slow.tar');
  let largest = 0;
  const out = createWriteStream(file);
  const counted = new Writable({
    write(chunk: Buffer, _enc, cb) {
      largest = Math.max(largest, chunk.length);
      if (out.write(chunk)) cb();
      else out.once('drain', () => cb());
    },
    final(cb) {
      out.end(cb);
    },
  });
  await engine.save([ref], counted);
  if (!counted.writableEnded) counted.end();
  await finished(counted);
  assert.ok((await stat(file)).size > LAYER, 'the archive holds the layer');
  assert.ok(largest > 0 && largest <= 1 << 20, `largest write ${largest}`);
  await engine.removeImages([ref]);
  assert.deepEqual(await engine.load(createReadStream(file, { highWaterMark: 4 << 20 })), [{ name: ref, id }]);
});
