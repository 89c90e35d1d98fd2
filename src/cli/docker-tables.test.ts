/**
 * `kiln images`, `ps -a`, `volume ls` and `system df` print docker's tables
 * byte for byte: docker's column layout (src/cli/tabwriter.ts), its CREATED
 * words, sizes, `ps` COMMAND cut to 20 columns and quoted, `--no-trunc`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnOk, testCache } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let root: string;
const k = (args: string[], env?: Record<string, string>) => kilnOk(['--backend', 'local', ...args], { root, ...(env ? { env } : {}) });
const pad = (s: string, w: number) => s + ' '.repeat(Math.max(10, w + 3) - s.length);

before(async () => {
  tmp = await tempDir('kiln-tables-');
  root = path.join(tmp, 'root');
});
after(() => removeDir(tmp));

test('an empty store: the four tables are docker\'s headers', async () => {
  assert.equal((await k(['images'])).stdout, 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
  assert.equal((await k(['ps', '-a'])).stdout, 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
  assert.equal((await k(['volume', 'ls'])).stdout, 'DRIVER    VOLUME NAME\n');
  assert.equal(
    (await k(['system', 'df'])).stdout,
    'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\nImages          0         0         0B        0B\nContainers      0         0         0B        0B\nLocal Volumes   0         0         0B        0B\nBuild Cache     0         0         0B        0B\n',
  );
});

test('images: a long name widens its column; CREATED from SOURCE_DATE_EPOCH in go-units words', async () => {
  const ctx = path.join(tmp, 'ctx');
  await mkdir(ctx);
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY f /f\n');
  await writeFile(path.join(ctx, 'f'), 'x'.repeat(1500));
  const repo = 'registry.example.com:5000/team/a-rather-long-repository-name';
  await k(['build', '-q', '-t', `${repo}:v1.2.3-long-tag`, ctx], { SOURCE_DATE_EPOCH: '1000000000' });
  const [id, size] = (await k(['images', '--format', '{{.ID}} {{.Size}}'])).stdout.trim().split(' ') as [string, string];
  assert.match(size, /^\d(\.\d+)?kB$/);
  // go-units: whole years of 365 days past two years.
  const years = Math.trunc(Math.trunc((Date.now() - 1_000_000_000_000) / 3_600_000) / 24 / 365);
  const created = `${years} years ago`;
  const want =
    pad('REPOSITORY', repo.length) + pad('TAG', 'v1.2.3-long-tag'.length) + pad('IMAGE ID', 12) + pad('CREATED', created.length) + 'SIZE\n' +
    pad(repo, repo.length) + pad('v1.2.3-long-tag', 15) + pad(id, 12) + pad(created, created.length) + `${size}\n`;
  assert.equal((await k(['images'])).stdout, want);
  assert.equal(want.split('\n')[0], 'REPOSITORY                                                     TAG               IMAGE ID       CREATED        SIZE');
});

test('ps -a: COMMAND quoted and cut to 20 columns with "…", --no-trunc whole; volume ls', async () => {
  await k(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'bb:1']);
  const id = (await k(['create', '--name', 'web-frontend-1', 'bb:1', 'sh', '-c', 'echo "hello world" && sleep 1000'])).stdout.trim();
  const format = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
  assert.equal(
    (await k(['ps', '-a', '--format', format])).stdout,
    `CONTAINER ID   IMAGE     ${pad('COMMAND', 23)}STATUS    PORTS     NAMES\n${id.slice(0, 12)}   bb:1      "sh -c echo \\"hello w…"   Created             web-frontend-1\n`,
  );
  assert.equal(
    (await k(['ps', '-a', '--no-trunc', '--format', format])).stdout,
    `${pad('CONTAINER ID', 64)}IMAGE     ${pad('COMMAND', 42)}STATUS    PORTS     NAMES\n${id}   bb:1      "sh -c echo \\"hello world\\" && sleep 1000"   Created             web-frontend-1\n`,
  );
  const table = (await k(['ps', '-a'])).stdout.split('\n');
  assert.match(table[1]!, new RegExp(`^${id.slice(0, 12)}   bb:1      "sh -c echo \\\\"hello w…"   (Less than a second ago|\\d+ seconds ago|1 second ago) +Created             web-frontend-1$`));
  await k(['volume', 'create', 'a-volume-with-a-long-name']);
  assert.equal((await k(['volume', 'ls'])).stdout, 'DRIVER    VOLUME NAME\nlocal     a-volume-with-a-long-name\n');
});
