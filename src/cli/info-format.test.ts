/**
 * `kiln info` at the top level, as `docker info`: the same text as `system
 * info`, `--format json`, and a Go template over docker's field names
 * (.Images, .ServerVersion, .DockerRootDir) and kiln's (.Backend, .Root);
 * `images -a` lists what `images` lists (kiln keeps no intermediate images).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { kiln, kilnOk, repoRoot, testCache } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let root: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });

before(async () => {
  tmp = await tempDir('kiln-info-');
  root = path.join(tmp, 'root');
  await k(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'bb:1']);
});
after(() => removeDir(tmp));

test('kiln info: the text of system info; --format json and Go templates with docker\'s fields', async () => {
  const version = (JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const text = (await k(['info'])).stdout;
  assert.equal(text, (await k(['system', 'info'])).stdout);
  assert.match(text, new RegExp(`^Backend: local\\nRoot: ${root.replace(/[/.]/g, '\\$&')}\\nImages: 1\\nBlobs: 3 \\(\\S+\\)\\nVersion: ${version.replace(/\./g, '\\.')}\\n$`));
  assert.equal((await k(['info', '--format', '{{.Images}} {{.ServerVersion}} {{.DockerRootDir}} {{.Backend}}'])).stdout, `1 ${version} ${root} local\n`);
  assert.equal((await k(['system', 'info', '-f', '{{json .Images}}'])).stdout, '1\n');
  assert.equal((JSON.parse((await k(['info', '--format', 'json'])).stdout) as { images: number }).images, 1);
  const bad = await kiln(['--backend', 'local', 'info', '--format', '{{.NoSuchField'], { root });
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^kiln: .*\n$/);
});

test('images -a lists what images lists', async () => {
  const format = ['--format', '{{.Repository}}:{{.Tag}} {{.ID}}'];
  const all = (await k(['images', '-a', ...format])).stdout;
  assert.match(all, /^bb:1 [0-9a-f]{12}\n$/);
  assert.equal(all, (await k(['images', ...format])).stdout);
  assert.equal((await k(['images', '-aq'])).stdout, (await k(['images', '-q'])).stdout);
});
