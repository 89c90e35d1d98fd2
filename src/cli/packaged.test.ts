/**
 * The packaged executable dist/kiln (`npm run package`, run by scripts/setup.sh)
 * runs kiln's commands with no node_modules, dist/ or proto/ beside it: a copy
 * in an empty folder runs version, import, images, the build of
 * examples/hello, run (foreground and detached: the monitor is the executable
 * re-run), save/load, and the agent path over mutual TLS (agent and client
 * are the executable; the agent API comes from its assets). The harnesses
 * run it through KILN_EXE.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAgent, type TestAgent } from '../testing/agent.js';
import { kiln, kilnExe, kilnOk, repoRoot, testCache } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let root: string;
let agent: TestAgent | undefined;
const version = (JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;

before(async () => {
  tmp = await tempDir('kiln-packaged-');
  root = path.join(tmp, 'root');
  // Alone in a folder: nothing of the repository is beside it.
  const exe = path.join(tmp, 'bin', 'kiln');
  await mkdir(path.dirname(exe));
  await copyFile(kilnExe(), exe);
  await chmod(exe, 0o755);
  process.env.KILN_EXE = exe;
});
after(async () => {
  await agent?.stop();
  await removeDir(tmp);
});

test('dist/kiln is one executable file that says its version', async () => {
  const st = await stat(kilnExe());
  assert.ok(st.isFile() && (st.mode & 0o111) !== 0, 'dist/kiln is an executable file (npm run package makes it)');
  assert.equal((await kilnOk(['--version'], { root })).stdout, `${version}\n`);
  assert.equal((await kilnOk(['version'], { root })).stdout, `kiln version ${version}\nnode ${process.version}\nos/arch ${process.platform}/${process.arch}\n`);
  const bad = await kiln(['no-such-command'], { root });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "kiln: unknown command: kiln no-such-command\n\nRun 'kiln --help' for more information\n");
});

test('import, images, build of examples/hello, run, save and load', async () => {
  const id = (await kilnOk(['import', '--change', 'CMD ["sh"]', path.join(testCache(), 'busybox-rootfs.tar'), 'demo/busybox:1.0'], { root })).stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const images = await kilnOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root });
  assert.equal(images.stdout, `demo/busybox:1.0 ${id.slice('sha256:'.length, 'sha256:'.length + 12)}\n`);
  await kilnOk(['build', '-q', '-t', 'hello:1', '--build-arg', 'GREETING=howdy', path.join(repoRoot(), 'examples', 'hello')], { root });
  const run = await kilnOk(['run', '--rm', '--network', 'none', 'hello:1'], { root });
  assert.equal(run.stdout, `howdy from a kiln-built image\nbuilt by kiln on ${os.machine()}\n`);

  const archive = path.join(tmp, 'hello.tar');
  await kilnOk(['save', '-o', archive, 'hello:1'], { root });
  const other = path.join(tmp, 'other');
  const loaded = await kilnOk(['load', '-i', archive], { root: other });
  assert.match(loaded.stdout, /Loaded image: hello:1/);
  const again = await kilnOk(['run', '--rm', '--network', 'none', 'hello:1', 'cat', '/app/built.txt'], { root: other });
  assert.equal(again.stdout, `built by kiln on ${os.machine()}\n`);
});

test('run -d: the detached monitor is the executable itself; wait and logs see the exit', async () => {
  await kilnOk(['run', '-d', '--name', 'bg', '--network', 'none', 'demo/busybox:1.0', 'sh', '-c', 'sleep 0.2; echo from-monitor; exit 7'], { root });
  const waited = await kilnOk(['wait', 'bg'], { root });
  assert.equal(waited.stdout, '7\n');
  assert.equal((await kilnOk(['logs', 'bg'], { root })).stdout, 'from-monitor\n');
  await kilnOk(['rm', 'bg'], { root });
});

test('kiln --host: agent and client are the executable, over mutual TLS', async () => {
  agent = await startAgent({ unix: false });
  const client = path.join(tmp, 'client');
  const env = agent.clientEnv;
  const id = (await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'remote/busybox:1'], { root: client, env })).stdout.trim();
  const images = await kilnOk(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root: client, env });
  assert.equal(images.stdout, 'remote/busybox:1\n');
  const info = await kilnOk(['system', 'info', '--format', 'json'], { root: client, env });
  const data = JSON.parse(info.stdout) as { backend: string; serverVersion: string; images: number };
  assert.deepEqual([data.backend, data.serverVersion, data.images], ['remote', version, 1]);
  const inspect = await kilnOk(['inspect', '-f', '{{.Id}}', 'remote/busybox:1'], { root: client, env });
  assert.equal(inspect.stdout.trim(), id);
});
