/**
 * The ContainerEngine conformance suite: docker's container commands through
 * the built CLI, the same assertions on every backend that runs containers
 * (local: src/engine/local/containers/conformance.test.ts; containerd:
 * src/engine/containerd/containers-conformance.test.ts). What a backend does
 * not do yet is listed in its target (`missing`), and the suite checks that
 * each is refused in one line rather than skipping it.
 *
 * Known differences, by backend:
 * - containerd: no `top`, `stats`, `cp`, `diff`, `export` yet (refused); an attached `run -i`/`-t`'s stdio
 *   is held by the CLI (containerd 1.6's log driver gets no stdin), so a CLI killed meanwhile stops its log;
 *   a detached container that exits by itself keeps its bridge address until the next
 *   start/stop/rm.
 * - kube (src/engine/kube/containers-conformance.test.ts; each container is a pod): refused: `--network none`
 *   (a pod always has its network), `--pids-limit` (the node's), `create`, starting a container that ran
 *   (`start`/`restart`: a pod runs once), `rename`, `commit`, host directories as volumes, `top`, `stats`, `cp`, `diff`,
 *   `export`. Differs (`differs`): a foreground run's output is the pod's log, stdout and stderr as one
 *   stream on stdout, lines of the two in the order the kubelet read them (`merged-output`); the pod network instead of kiln's bridge, `-p` forwarded through the API
 *   server (`pod-network`: kube's own tests cover it); `stop -t` waits the pod's grace period (10 s) before
 *   SIGKILL (`stop-grace`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { bridgeMembers, IMAGE, until, type ContainerFixture } from '../../testing/container-fixture.js';
import { volumeConformance } from './conformance-volumes.js';

export type MissingFeature = 'volumes' | 'tty' | 'stdin' | 'top' | 'stats' | 'cp' | 'diff' | 'export' | 'network-none' | 'pids-limit' | 'create' | 'rerun' | 'rename' | 'commit';
/** Done, but otherwise than docker does it (see the list above). */
export type Difference = 'merged-output' | 'pod-network' | 'stop-grace';

export interface ContainerTarget {
  backend: string;
  /** kiln on the backend, busybox imported as busybox:test, a bridge of its own; cleanup fails on leftovers. */
  fixture(): Promise<ContainerFixture>;
  missing: MissingFeature[];
  differs?: Difference[];
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const HTTPD = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';
const REFUSED: Record<MissingFeature, string[]> = {
  volumes: ['run', '-v', '/tmp:/x'], tty: ['run', '-t'], stdin: ['run', '-i'], 'network-none': ['run', '--network', 'none'], 'pids-limit': ['run', '--pids-limit', '50'], create: ['create'],
  top: ['top'], stats: [], cp: [], diff: [], export: [], rerun: [], rename: [], commit: [],
};
/** Commands on the running probe container rather than a run. */
const ON_PROBE: Partial<Record<MissingFeature, string[]>> = {
  top: ['top', 'probe'], stats: ['stats', '--no-stream', 'probe'], cp: ['cp', 'probe:/etc/hostname', '/tmp'], diff: ['diff', 'probe'], export: ['export', '-o', '/tmp/kiln-export-probe.tar', 'probe'],
  rerun: ['restart', 'probe'], rename: ['rename', 'probe', 'probe2'], commit: ['commit', 'probe'],
};

export function containerConformance(t: ContainerTarget): void {
  const has = (f: MissingFeature) => !t.missing.includes(f);
  const differs = (d: Difference) => !!t.differs?.includes(d);
  /** `--network none` where the backend has it (kept off the network, as the local tests are). */
  const NONE = has('network-none') ? ['--network', 'none'] : [];
  describe(`ContainerEngine conformance: ${t.backend}`, () => {
    let fx: ContainerFixture;
    before(async () => {
      fx = await t.fixture();
    });
    after(() => fx?.cleanup());

    test('run: output, exit codes (3, 128+signal), docker\'s 127 message, flags reach the process, --rm leaves nothing', async () => {
      const r = await fx.k(['run', '--rm', ...NONE, IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      // merged-output: both lines on stdout, in the order the kubelet read its two pipes.
      if (differs('merged-output')) assert.deepEqual([r.code, r.stdout.split('\n').sort().join(' '), r.stderr], [3, ' err out', '']);
      else assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
      assert.equal((await fx.k(['run', '--rm', ...NONE, '--init', IMAGE, 'sh', '-c', 'kill -9 $$'])).code, 137);
      const missing = await fx.k(['run', '--rm', ...NONE, IMAGE, 'nosuchcmd']);
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /^kiln: exec: "nosuchcmd": executable file not found in \$PATH/);
      assert.equal(missing.stderr.trim().split('\n').length, 1);
      // The CLI reads --env-file (on kube, the client side: its root may not exist until it stores something).
      await mkdir(fx.root, { recursive: true });
      const envFile = path.join(fx.root, 'env.list');
      await writeFile(envFile, '# comment\nFROM_FILE=1\n');
      const flags = await fx.ok([
        'run', '--rm', ...NONE, '-e', 'A=b', '--env-file', envFile, '-w', '/tmp', '-u', '1000:1000', '--hostname', 'box',
        '--entrypoint', 'sh', IMAGE, '-c', 'echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname) $(cat /etc/hostname)',
      ]);
      assert.equal(flags.stdout, 'b 1 /tmp 1000:1000 box box\n');
      const ro = await fx.k(['run', '--rm', ...NONE, '--read-only', IMAGE, 'touch', '/x']);
      assert.equal(ro.code, 1);
      assert.match(differs('merged-output') ? ro.stdout : ro.stderr, /Read-only file system/);
      assert.equal((await fx.k(['run', '--rm', ...NONE, '--cap-drop', 'CHOWN', IMAGE, 'chown', '1:1', '/tmp'])).code, 1);
      const pids = has('pids-limit') ? ['--pids-limit', '50'] : [];
      const limits = await fx.ok(['run', '--rm', ...NONE, '--memory', '32m', ...pids, IMAGE, 'sh', '-c', `cat /sys/fs/cgroup/memory/memory.limit_in_bytes${pids.length ? ' /sys/fs/cgroup/pids/pids.max' : ''}`]);
      assert.equal(limits.stdout, `${32 * 1024 * 1024}\n${pids.length ? '50\n' : ''}`);
      if (has('stdin')) assert.equal((await fx.ok(['run', '--rm', '-i', ...NONE, IMAGE, 'tr', 'a-z', 'A-Z'], 'piped in\n')).stdout, 'PIPED IN\n');
      assert.equal((await fx.ok(['ps', '-aq'])).stdout, '', '--rm left containers');
    });

    test('detached lifecycle: ps, logs, exec, stop after -t, fresh root on start, logs kept, wait, kill, rm', async () => {
      const script = 'echo boot; touch /marker-$(date +%s%N); ls / | grep -c marker; trap "" TERM; while true; do usleep 100000; done';
      const id = (await fx.ok(['run', '-d', '--name', 'life', ...NONE, IMAGE, 'sh', '-c', script])).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      await until('first log lines', async () => (await fx.ok(['logs', 'life'])).stdout === 'boot\n1\n');
      assert.match((await fx.ok(['ps'])).stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox:test\\s+"sh -c echo boot;.*Up .*life$`, 'm'));
      const json = JSON.parse((await fx.ok(['ps', '--format', 'json', '--filter', 'name=life'])).stdout) as { id: string; state: string }[];
      assert.deepEqual(json.map((c) => [c.id, c.state]), [[id, 'running']]);
      assert.equal((await fx.ok(['ps', '-q', '--filter', 'status=exited'])).stdout, '');
      const ex = await fx.k(['exec', '-e', 'X=1', '-w', '/etc', 'life', 'sh', '-c', 'echo $X $(pwd); exit 5']);
      assert.deepEqual([ex.code, ex.stdout], [5, '1 /etc\n']);
      await fx.ok(['exec', '-d', 'life', 'touch', '/from-detached-exec']);
      await until('detached exec', async () => (await fx.k(['exec', 'life', 'test', '-e', '/from-detached-exec'])).code === 0);
      const t0 = Date.now();
      await fx.ok(['stop', '-t', '1', 'life']);
      const took = Date.now() - t0;
      // stop-grace: the pod's grace period (10 s), not -t, before SIGKILL; then the kubelet's sync loop, the SIGKILL
      // and the pod's status reaching the API, each later on a loaded node (the upper bound says it ends, not how fast).
      const [least, most] = differs('stop-grace') ? [10_000, 50_000] : [1000, 15000];
      assert.ok(took >= least && took < most, `stop took ${took} ms`);
      assert.match((await fx.ok(['ps', '-a', '--filter', 'name=life'])).stdout, /Exited \(137\)/);
      assert.equal((await fx.ok(['wait', 'life'])).stdout, '137\n');
      if (!has('rerun')) {
        assert.equal((await fx.ok(['logs', 'life'])).stdout, 'boot\n1\n', 'the log outlives the stop');
        await fx.ok(['rm', 'life']);
        assert.equal((await fx.k(['inspect', 'life'])).code, 1);
        return;
      }
      await fx.ok(['start', 'life']);
      await until('second run logs', async () => (await fx.ok(['logs', 'life'])).stdout === 'boot\n1\nboot\n1\n');
      assert.match((await fx.ok(['logs', '--tail', '1', '-t', 'life'])).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z 1\n$/);
      const inspect = JSON.parse((await fx.ok(['inspect', 'life'])).stdout) as { Id: string; Name: string; State: { Running: boolean; Pid: number }; RestartCount: number }[];
      assert.deepEqual([inspect[0]!.Id, inspect[0]!.Name, inspect[0]!.State.Running, inspect[0]!.RestartCount], [id, '/life', true, 1]);
      assert.ok(inspect[0]!.State.Pid > 0);
      await fx.ok(['kill', '-s', 'KILL', 'life']);
      assert.equal((await fx.ok(['wait', 'life'])).stdout, '137\n');
      await fx.ok(['rm', 'life']);
      assert.equal((await fx.k(['inspect', 'life'])).code, 1);
    });

    if (has('create')) test('create then start -a; an image in use is not removed without -f; rename; restart gives a fresh root and keeps name and id', async () => {
      await fx.ok(['create', '--name', 'made', ...NONE, IMAGE, 'echo', 'created-then-started']);
      assert.match((await fx.ok(['ps', '-a', '--filter', 'status=created'])).stdout, /Created\s+made/);
      const rmi = await fx.k(['rmi', IMAGE]);
      assert.equal(rmi.code, 1);
      assert.match(rmi.stderr, /^kiln: conflict: unable to remove image busybox:test \([0-9a-f]{12}\): container made is using it/);
      await fx.ok(['rename', 'made', 'renamed']);
      const started = await fx.k(['start', '-a', 'renamed']);
      assert.deepEqual([started.code, started.stdout], [0, 'created-then-started\n']);
      await fx.ok(['rm', 'renamed']);
      const id = (await fx.ok(['run', '-d', '--name', 'rs', ...NONE, IMAGE, 'sh', '-c', 'echo start; touch /m; sleep 1000'])).stdout.trim();
      await until('started', async () => (await fx.ok(['logs', 'rs'])).stdout === 'start\n');
      await fx.ok(['exec', 'rs', 'touch', '/written-before']);
      await fx.ok(['restart', '-t', '0', 'rs']);
      await until('restarted', async () => (await fx.ok(['logs', 'rs'])).stdout === 'start\nstart\n');
      assert.equal((await fx.k(['exec', 'rs', 'test', '-e', '/written-before'])).code, 1);
      assert.equal((await fx.ok(['ps', '-q', '--no-trunc'])).stdout.trim(), id);
      await fx.ok(['rm', '-f', 'rs']);
    });

    if (has('volumes')) volumeConformance(() => fx, NONE);

    if (has('tty') && has('stdin')) test('-it through a real terminal (util-linux script): a tty inside, TERM, exit code out; exec -it; exec -i reads to end-of-file', async () => {
      const viaScript = (args: string[], input: string) =>
        new Promise<{ code: number; out: string }>((resolve) => {
          const cmd = fx.argv(args).map((a) => `'${a}'`).join(' ');
          const child = execFile('script', ['-qfec', cmd, '/dev/null'], { timeout: 60_000, env: { ...process.env, ...fx.env } }, (_e, out) => resolve({ code: child.exitCode ?? -1, out }));
          // Typed once the shell's prompt shows (under load, input typed earlier is echoed into the output before
          // the shell runs); kept open: an early end-of-file would reach the shell as ^D before it reads the line.
          let typed = input === '';
          const type = () => {
            if (typed) return;
            typed = true;
            child.stdin!.write(input);
          };
          child.stdout!.on('data', (d: Buffer) => /# $/.test(d.toString()) && type());
          setTimeout(type, 5_000).unref(); // no prompt seen (kube: output before the attach is in the log only): typed anyway
          child.on('exit', () => child.stdin!.destroy());
        });
      const run = await viaScript(['run', '-it', '--rm', ...NONE, IMAGE, 'sh'], 'tty; echo TERM=$TERM; exit 5\n');
      assert.equal(run.code, 5, run.out);
      assert.match(run.out, /\/dev\/pts\/0\r\nTERM=xterm\r\n/);
      assert.ok(!run.out.includes('\r\r\n'), 'lines carry a doubled \\r');
      await fx.ok(['run', '-d', '--name', 'ttyexec', ...NONE, IMAGE, 'sleep', '1000']);
      const ex = await viaScript(['exec', '-it', 'ttyexec', 'sh', '-c', 'tty >/dev/null && echo is-a-tty; exit 2'], '');
      assert.equal(ex.code, 2, ex.out);
      // One \r from kiln's side. Debian's runc 1.1.5 clears ONLCR on an exec'd process's terminal from its parent,
      // racing the process: a line written before that gets a second \r (seen with runc alone under `script`, no
      // kiln in the chain; local/containers/lifecycle.test.ts says the same). Anything else is kiln's.
      assert.match(ex.out, /^is-a-tty\r\r?\n$/);
      assert.equal((await fx.ok(['exec', '-i', 'ttyexec', 'tr', 'a-z', 'A-Z'], 'to the end\n')).stdout, 'TO THE END\n');
      await fx.ok(['rm', '-f', 'ttyexec']);
      assert.equal((await fx.ok(['ps', '-aq'])).stdout, '', '--rm left containers');
    });

    if (!differs('pod-network')) test('bridge (default): a published port reaches busybox httpd, containers reach each other, /etc files; rm frees the port', async () => {
      const port = await freePort();
      await fx.ok(['run', '-d', '--name', 'web', '--hostname', 'webhost', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', HTTPD]);
      let body = '';
      await until('httpd answers on the published port', async () => {
        try {
          body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
          return true;
        } catch {
          return false;
        }
      });
      assert.equal(body, 'hello from webhost\n');
      assert.match((await fx.ok(['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp\\s+web`));
      assert.equal((await fx.ok(['port', 'web'])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
      assert.equal((await fx.ok(['port', 'web', '80/tcp'])).stdout, `127.0.0.1:${port}\n`);
      const unpublished = await fx.k(['port', 'web', '81']);
      assert.deepEqual([unpublished.code, unpublished.stderr], [1, "kiln: no public port '81/tcp' published for web (publish it with kiln run -p HOST:81)\n"]);
      const ip = (JSON.parse((await fx.ok(['inspect', 'web'])).stdout) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
      assert.ok(ip.startsWith(fx.subnet.split('.').slice(0, 3).join('.') + '.'), `${ip} not in ${fx.subnet}`);
      assert.equal((await fx.ok(['run', '--rm', IMAGE, 'wget', '-qO-', `http://${ip}/`])).stdout, 'hello from webhost\n');
      await fx.ok(['rm', '-f', 'web']);
      assert.deepEqual(bridgeMembers(fx.bridge), []);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));

      const r = await fx.ok(['run', '--rm', '--hostname', 'h1', '--dns', '192.0.2.53', '--add-host', 'db:192.0.2.10', IMAGE, 'sh', '-c', 'cat /etc/hostname /etc/resolv.conf; grep -E "db|h1" /etc/hosts; ip -4 -o addr show eth0 | wc -l; ip -o link show lo | grep -c UP']);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], 'h1');
      assert.ok(lines.includes('nameserver 192.0.2.53'), r.stdout);
      assert.ok(!lines.some((l) => /^nameserver (?!192\.0\.2\.53)/.test(l)), `host nameservers kept: ${r.stdout}`);
      assert.ok(lines.includes('192.0.2.10\tdb'), r.stdout);
      assert.ok(lines.some((l) => /^10\.\d+\.\d+\.\d+\th1$/.test(l)), r.stdout);
      assert.deepEqual(lines.slice(-2), ['1', '1'], 'one IPv4 address on eth0, lo up');
      assert.equal((await fx.ok(['run', '--rm', ...NONE, IMAGE, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'])).stdout, 'lo ');
      assert.ok(Number((await fx.ok(['run', '--rm', '--network', 'host', IMAGE, 'sh', '-c', 'ls /sys/class/net | wc -l'])).stdout.trim()) > 1);
    });

    if (has('commit')) test('commit: the running container\'s changes as a new image (id printed as docker); -c CMD; a deletion is gone; a stopped container is one line', async () => {
      await fx.ok(['run', '-d', '--name', 'cm', '--network', 'none', IMAGE, 'sh', '-c', 'echo made > /made; rm /bin/vi; touch /ready; sleep 1000']);
      await until('the changes', async () => (await fx.k(['exec', 'cm', 'test', '-e', '/ready'])).code === 0);
      const id = (await fx.ok(['commit', '-m', 'msg', '-c', 'CMD ["cat", "/made"]', 'cm', 'cm-image:1'])).stdout;
      assert.match(id, /^sha256:[0-9a-f]{64}\n$/);
      assert.equal((await fx.ok(['run', '--rm', '--network', 'none', 'cm-image:1'])).stdout, 'made\n');
      assert.equal((await fx.k(['run', '--rm', '--network', 'none', 'cm-image:1', 'test', '-e', '/bin/vi'])).code, 1);
      assert.equal((await fx.ok(['exec', 'cm', 'echo', 'resumed'])).stdout, 'resumed\n');
      await fx.ok(['stop', '-t', '0', 'cm']);
      const stopped = await fx.k(['commit', 'cm']);
      assert.equal(stopped.code, 1);
      assert.match(stopped.stderr, /^kiln: .*container cm.* not running/);
      assert.equal(stopped.stderr.trim().split('\n').length, 1);
      await fx.ok(['rm', 'cm']);
      await fx.ok(['rmi', 'cm-image:1']);
    });

    if (t.missing.length > 0) {
      test(`not yet on ${t.backend}: ${t.missing.join(', ')} — each refused in one line, nothing made`, async () => {
        await fx.ok(['run', '-d', '--name', 'probe', ...NONE, IMAGE, 'sleep', '1000']);
        for (const feature of t.missing) {
          const args = ON_PROBE[feature] ?? [...REFUSED[feature], ...NONE, IMAGE, 'true'];
          const r = await fx.k(args);
          assert.equal(r.code, 1, feature);
          assert.match(r.stderr, new RegExp(`^kiln: .* not supported on the ${t.backend} backend`), feature);
          assert.equal(r.stderr.trim().split('\n').length, 1, feature);
        }
        assert.deepEqual((await fx.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'probe\n');
        await fx.ok(['rm', '-f', 'probe']);
      });
    }
  });
}
