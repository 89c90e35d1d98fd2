/** The client's TLS files: read as given, and a missing one said in one line (as a rejected promise, as before). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isKilnError } from '../errors.js';
import { readTls, tlsFiles } from './client.js';

test('readTls: the CA, certificate and key as the files hold them; a missing file or a certificate without its key is one line', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-tlsfiles-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Not PEM certificates: readTls leaves a certificate that does not parse to the handshake.
  for (const n of ['ca', 'cert', 'key']) await writeFile(path.join(dir, `${n}.pem`), `${n} bytes\n`);
  const files = tlsFiles({}, dir)!;
  const got = await readTls(files);
  assert.deepEqual([got.ca.toString(), got.cert?.toString(), got.key?.toString()], ['ca bytes\n', 'cert bytes\n', 'key bytes\n']);
  const missing = readTls({ ...files, ca: path.join(dir, 'nope.pem') });
  assert.ok(missing instanceof Promise, 'a failure is a rejected promise, not a throw from the call');
  await assert.rejects(missing, (e) => isKilnError(e, 'INVALID_ARGUMENT') && e.message === `cannot read the CA certificate ${path.join(dir, 'nope.pem')}: ENOENT`);
  await assert.rejects(readTls({ ca: files.ca, cert: files.cert! }), /a client certificate needs its key/);
});
