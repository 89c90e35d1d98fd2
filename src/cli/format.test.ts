/** `--format` templates on images, ps and inspect, as docker users script them. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let root: string;
let id: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-format-'));
  root = path.join(tmp, 'root');
  id = (await k(['import', '-c', 'ENV A=1', '-c', 'LABEL team=kiln', path.join(testCache(), 'busybox-rootfs.tar'), 'fmt/app:1'])).stdout.trim();
  await k(['tag', 'fmt/app:1', 'fmt/app:2']);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('images --format: a line per tag, and table with docker column titles', async () => {
  const lines = (await k(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'fmt/app'])).stdout;
  assert.deepEqual(lines.trim().split('\n').sort(), [`fmt/app:1 ${id.slice(7, 19)}`, `fmt/app:2 ${id.slice(7, 19)}`]);
  const table = (await k(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}', 'fmt/app:1'])).stdout;
  assert.match(table, /^REPOSITORY\s+TAG\nfmt\/app\s+1\n$/);
});

test('inspect -f renders each object; a bad template is one line and exit 1 before any lookup', async () => {
  const r = await k(['inspect', '-f', '{{.Id}} {{index .Config.Labels "team"}} {{json .Config.Env}}', 'fmt/app:1']);
  assert.match(r.stdout, new RegExp(`^${id} kiln \\[.*"A=1".*\\]\\n$`));
  const bad = await kiln(['--backend', 'local', 'inspect', '-f', '{{.Id', 'no-such-image'], { root });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'kiln: template "{{.Id": unclosed action (use Go template syntax, fields as {{.Name}}, or --format json)\n');
});

test('ps --format over created containers', async () => {
  await k(['create', '--name', 'fmt-one', '--network', 'none', 'fmt/app:1', 'true']);
  const r = await k(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}}']);
  assert.equal(r.stdout, 'fmt-one fmt/app:1 created\n');
  const t = await k(['ps', '-a', '--format', 'table {{.Names}}\\t{{.Status}}']);
  assert.match(t.stdout, /^NAMES\s+STATUS\nfmt-one\s+Created\n$/);
  await k(['rm', 'fmt-one']);
});
