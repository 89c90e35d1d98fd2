import assert from 'node:assert/strict';
import { readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MediaType } from '../oci/mediatypes.js';
import { checkStore, collectGarbage, openStore } from './index.js';
import { repoRoot, run, storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';

const distIndex = join(repoRoot(), 'dist', 'content', 'index.js');

test('check reports a corrupt blob, a missing blob and leftovers', async (t) => {
  const dir = await tempDir(t);
  const store = await openStore(join(dir, 'store'));
  const a = await tinyImage({ files: [{ a: 'a' }] });
  const b = await tinyImage({ files: [{ b: 'b' }] });
  await storeImage(store, a, 'localhost/a:1');
  await storeImage(store, b, 'localhost/b:1');
  assert.deepEqual(await checkStore(store), []);

  const blobs = join(store.root, 'blobs', 'sha256');
  const corrupt = a.layers[0]!.digest;
  await writeFile(join(blobs, corrupt.slice(7)), 'flipped bits');
  const missing = b.config.digest;
  await unlink(join(blobs, missing.slice(7)));
  const killed = join(dir, 'killed.mjs');
  await writeFile(
    killed,
    `import { openStore } from ${JSON.stringify(distIndex)};
     const store = await openStore(${JSON.stringify(store.root)});
     await store.content.writeBytes('committed, never tagged');
     await (await store.content.writer('x')).write([Buffer.from('partial')]);
     // A whole stream under a fresh key (a manifest stored as read) cut by the kill: nobody resumes it.
     void store.content.ingest((async function* () { yield Buffer.from('half a manifest'); await new Promise(() => {}); })());
     // Killed once that ingest's files exist (a fixed pause may end before they do on a loaded machine).
     const { readdir } = await import('node:fs/promises');
     const made = async () => (await readdir(${JSON.stringify(join(store.root, 'ingest'))})).filter((n) => /^anonymous\\.(data|lock)\\.tmp-\\d+-[0-9a-f]{8}$/.test(n)).length === 2;
     for (const end = Date.now() + 30_000; !(await made()); await new Promise((r) => setTimeout(r, 10))) {
       if (Date.now() > end) { console.error('the anonymous ingest made no data and lock files in 30 s'); process.exit(3); }
     }
     process.kill(process.pid, 'SIGKILL');`,
  );
  const cut = await run(process.execPath, [killed]);
  assert.equal(cut.signal, 'SIGKILL', cut.stderr);
  const strayTemp = join(store.root, 'index.json.tmp-999999-0badf00d'); // (opening a store to write clears these)
  await writeFile(strayTemp, '{');

  const problems = await checkStore(store);
  const byKind = (k: string) => problems.filter((p) => p.kind === k);
  assert.deepEqual(byKind('corrupt-blob').map((p) => p.digest), [corrupt]);
  assert.match(byKind('corrupt-blob')[0]!.message, new RegExp(`blob ${corrupt} is corrupt: its content hashes to sha256:`));
  assert.deepEqual(byKind('size-mismatch').map((p) => [p.name, p.digest]), [['localhost/a:1', corrupt]]);
  assert.deepEqual(byKind('missing-blob').map((p) => p.message), [`localhost/b:1: config ${missing} is missing`]);
  // The cut anonymous ingest is a temp of the dead process (its data and lock), not a resumable download.
  const ingestDir = join(store.root, 'ingest');
  const anonymous = (await readdir(ingestDir)).filter((n) => n.startsWith('anonymous.')).map((n) => join(ingestDir, n)).sort();
  assert.deepEqual(anonymous.map((p) => p.replace(/\d+-[0-9a-f]{8}$/, 'PID-HEX')), [join(ingestDir, 'anonymous.data.tmp-PID-HEX'), join(ingestDir, 'anonymous.lock.tmp-PID-HEX')]);
  assert.deepEqual(byKind('stray-temp').map((p) => p.path).sort(), [...anonymous, strayTemp].sort());
  assert.deepEqual(byKind('resumable').map((p) => [p.info, p.message]), [[true, 'partial download (7 bytes) of a process that is gone, kept so the next pull of it resumes (kiln system prune removes it)']]);
  assert.equal(byKind('stale-lease').length, 1);
  assert.equal(problems.length, 8, JSON.stringify(problems, null, 1));

  // Prune clears the leftovers; the damaged images remain reported.
  await collectGarbage(store);
  assert.deepEqual((await checkStore(store)).map((p) => p.kind).sort(), ['corrupt-blob', 'missing-blob', 'size-mismatch']);
  assert.deepEqual((await readdir(ingestDir)).filter((n) => n.startsWith('anonymous.')), []);
});

test('check reports a manifest that is not JSON and a stray file among blobs', async (t) => {
  const store = await openStore(await tempDir(t));
  const garbage = Buffer.from('this is not a manifest');
  const info = await store.content.writeBytes(garbage);
  await store.refs.set('localhost/broken:1', { mediaType: MediaType.OciManifest, ...info });
  const stray = join(store.root, 'blobs', 'sha256', 'README');
  await writeFile(stray, 'hi');
  const problems = await checkStore(store);
  assert.deepEqual(
    problems.map((p) => [p.kind, p.digest ?? p.path]),
    [
      ['stray-file', stray],
      ['invalid-manifest', info.digest],
    ],
  );
  assert.match(problems[1]!.message, new RegExp(`^localhost/broken:1: image ${info.digest} is not valid: `));
});
