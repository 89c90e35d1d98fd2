/**
 * `kiln build` end to end through the CLI, on busybox imported into a temp
 * store: image config, layer contents, cache hits, multi-stage, mounts,
 * inputs and outputs, failures and what they leave behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { kilnOk } from '../testing/kiln.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
before(async () => {
  fx = await buildFixture('kiln-build-');
});
after(async () => {
  await fx.assertNoLeftovers();
  await fx.cleanup();
});

const DOCKERFILE = `FROM busybox
ENV A=1 B="two words"
ARG GREETING=hello
WORKDIR /app
COPY hello.txt ./
COPY dir/ /app/dir/
RUN echo "$GREETING $A" > /app/out.txt && rm /bin/ls && mkdir -p /etc/empty
USER nobody
EXPOSE 8080 53/udp
LABEL x=y
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
STOPSIGNAL SIGQUIT
VOLUME /data
HEALTHCHECK --interval=5s --retries=2 CMD true
`;

test('a single-stage build: config fields, history and the final filesystem', async () => {
  const ctx = fx.context({ Dockerfile: DOCKERFILE, 'hello.txt': 'hello file\n', 'dir/sub/a': 'a\n', 'dir/skip.log': 'x', '.dockerignore': '*/*.log\n' });
  const out = path.join(fx.tmp, 'out1');
  const r = await fx.buildOk(['-t', 'app:1', '--build-arg', 'GREETING=howdy', '--label', 'extra=1', '-o', `type=local,dest=${out}`, '--progress=plain', ctx]);
  const id = r.stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const img = await fx.inspect('app:1');
  assert.equal(img.Id, id);
  assert.deepEqual(img.Config, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words'],
    WorkingDir: '/app',
    User: 'nobody',
    ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    Labels: { x: 'y', extra: '1' },
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hi'],
    StopSignal: 'SIGQUIT',
    Volumes: { '/data': {} },
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000, Retries: 2 },
  });
  assert.equal(img.RootFS.Layers.length, 1 + 4, 'base + WORKDIR, 2 COPY, RUN');
  const h = (await kilnOk(['history', '--no-trunc', 'app:1'], { root: fx.root })).stdout;
  assert.match(h, /RUN \/bin\/sh -c echo "\$GREETING \$A" > \/app\/out.txt/);
  assert.match(h, /COPY dir\/ \/app\/dir\//);
  // The filesystem: copies, the RUN's output, its deletion of a lower file, ignored files absent.
  assert.equal(readFileSync(path.join(out, 'app/hello.txt'), 'utf8'), 'hello file\n');
  assert.equal(readFileSync(path.join(out, 'app/dir/sub/a'), 'utf8'), 'a\n');
  assert.ok(!existsSync(path.join(out, 'app/dir/skip.log')), '.dockerignore is applied');
  assert.equal(readFileSync(path.join(out, 'app/out.txt'), 'utf8'), 'howdy 1\n');
  assert.ok(!existsSync(path.join(out, 'bin/ls')), 'the whiteout removed /bin/ls');
  assert.ok(existsSync(path.join(out, 'bin/sh')));
  assert.ok(statSync(path.join(out, 'etc/empty')).isDirectory());
  const st = statSync(path.join(out, 'app/hello.txt'));
  assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [0, 0, 0o644]);
  // runc's mount points (/etc/hostname…) are not part of any layer.
  assert.ok(!existsSync(path.join(out, 'etc/hostname')));
  assert.match(r.stderr, /#\d+ \[5\/5\] RUN echo "\$GREETING \$A"/);
  assert.match(r.stderr, /#\d+ DONE \d+\.\ds/);
});

test('a rebuild hits the cache for every step and gives the same image ID; a changed file reruns from its COPY', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCOPY c.txt /c.txt\n', 'a.txt': 'one\n', 'c.txt': 'c\n' });
  const first = await fx.buildOk(['--progress=plain', '-t', 'cache:1', ctx]);
  assert.doesNotMatch(first.stderr, /CACHED/);
  const second = await fx.buildOk(['--progress=plain', '-t', 'cache:1', ctx]);
  assert.equal(second.stdout, first.stdout, 'same image ID');
  assert.equal(second.stderr.match(/#\d+ CACHED/g)?.length, 3);
  writeFileSync(path.join(ctx, 'a.txt'), 'two\n');
  const third = await fx.buildOk(['--progress=plain', '-t', 'cache:1', '-o', `type=local,dest=${fx.tmp}/out-cache`, ctx]);
  assert.notEqual(third.stdout, first.stdout);
  assert.doesNotMatch(third.stderr, /CACHED/, 'the COPY of the changed file and everything after it ran');
  assert.equal(readFileSync(`${fx.tmp}/out-cache/b.txt`, 'utf8'), 'two\n');
  const noCache = await fx.buildOk(['--progress=plain', '--no-cache', ctx]);
  assert.doesNotMatch(noCache.stderr, /CACHED/);
});

const MULTI = [
  'FROM busybox AS base',
  'ONBUILD RUN echo triggered > /trig',
  'RUN echo base > /base.txt',
  'FROM base AS child',
  "RUN --mount=type=cache,target=/cache echo x >> /cache/n && wc -l < /cache/n | tr -d ' ' > /count",
  'ADD a.tgz /ex/',
  'COPY --chown=nobody:nogroup --chmod=0640 s.txt /owned',
  'COPY --chown=1234 s.txt /numeric',
  'RUN <<EOT',
  'echo heredoc > /hd',
  'EOT',
  'COPY <<CONF /hello.conf',
  'greeting=hi',
  'CONF',
  'FROM busybox AS unused',
  'RUN exit 1',
  'FROM busybox',
  'COPY --from=child /trig /count /hd /base.txt /hello.conf /out/',
  'COPY --from=child /ex/f /owned /numeric /out/',
  '',
].join('\n');

test('multi-stage: COPY --from a stage, ONBUILD triggers, heredocs, ADD of a tar, --chown/--chmod, cache mounts', async () => {
  const ctx = fx.context({ Dockerfile: MULTI, 's.txt': 'data\n' });
  execFileSync('sh', ['-c', 'mkdir -p t && echo intar > t/f && tar -czf a.tgz -C t f && rm -r t'], { cwd: ctx });
  const out = path.join(fx.tmp, 'out-ms');
  await fx.buildOk(['-t', 'ms:1', '-o', `type=local,dest=${out}`, ctx]);
  const read = (p: string) => readFileSync(path.join(out, 'out', p), 'utf8');
  assert.deepEqual(
    [read('trig'), read('count'), read('hd'), read('base.txt'), read('f'), read('hello.conf')],
    ['triggered\n', '1\n', 'heredoc\n', 'base\n', 'intar\n', 'greeting=hi\n'],
  );
  const owned = lstatSync(path.join(out, 'out/owned'));
  assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o777], [65534, 65534, 0o640]);
  const numeric = lstatSync(path.join(out, 'out/numeric'));
  assert.deepEqual([numeric.uid, numeric.gid], [1234, 1234]);
  // The cache mount outlives the build: a --no-cache rebuild sees the first build's line.
  const out2 = path.join(fx.tmp, 'out-ms2');
  await fx.buildOk(['--no-cache', '--target', 'child', '-o', `type=local,dest=${out2}`, ctx]);
  assert.equal(readFileSync(path.join(out2, 'count'), 'utf8'), '2\n');
  const img = await fx.inspect('ms:1');
  assert.equal(img.RootFS.Layers.length, 3, 'base + the two COPY --from layers');
});

test('secrets reach RUN at /run/secrets/ID and nowhere else: no layer, history, config or cache record holds them', async () => {
  const secret = `s3cr3t-${process.pid}-value`;
  const ctx = fx.context({
    Dockerfile: [
      'FROM busybox',
      'RUN --mount=type=secret,id=tok ls -la /run/secrets > /listing && test "$(cat /run/secrets/tok)" = "' + secret.slice(0, 6) + '$(cat /run/secrets/tok | cut -c7-)"',
      `RUN --mount=type=secret,id=tok,env=TOKEN test "\${#TOKEN}" = ${secret.length} && test ! -e /run/secrets/tok && echo env-ok > /env`,
      '',
    ].join('\n'),
  });
  const src = path.join(fx.tmp, 'tok.txt');
  writeFileSync(src, secret);
  const out = path.join(fx.tmp, 'out-secret');
  await fx.buildOk(['-t', 'secret:1', '--secret', `id=tok,src=${src}`, '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(readFileSync(path.join(out, 'env'), 'utf8'), 'env-ok\n');
  // 0 links once the host has unlinked its copy (mounts.ts: a killed build leaves none), 1 before.
  assert.match(readFileSync(path.join(out, 'listing'), 'utf8'), /-r--------\s+[01] root\s+root\s+\d+ .* tok/);
  assert.ok(!existsSync(path.join(out, 'run/secrets')), 'the mount point is not in the image');
  const hits: string[] = [];
  const scan = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (lstatSync(p).isDirectory()) {
        scan(p);
        continue;
      }
      if (!lstatSync(p).isFile()) continue;
      let bytes = readFileSync(p);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      if (bytes.includes(secret)) hits.push(p);
    }
  };
  scan(path.join(fx.root, 'blobs'));
  scan(path.join(fx.root, 'buildcache'));
  assert.deepEqual(hits, [], 'the secret is in no blob and no cache record');
  const missing = await fx.build(['-q', '--no-cache', '--secret', 'id=tok,src=/nonexistent/file', ctx]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^kiln: Dockerfile:2: secret tok: file \/nonexistent\/file does not exist/m);
});

test('a failing RUN: step, Dockerfile:LINE, exit code and last output; nothing left behind', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nRUN echo one\nRUN echo first line; echo boom >&2; exit 3\nRUN echo never\n' });
  const r = await fx.build(['--progress=plain', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /kiln: Dockerfile:3: step \[3\/4\] failed: `RUN echo first line; echo boom >&2; exit 3`: exit code 3\n {2}last output:\n/);
  assert.match(r.stderr.slice(r.stderr.indexOf('last output:')), /^ {4}boom$/m);
  assert.doesNotMatch(r.stderr, /never/);
  const notFound = await fx.build(['-q', fx.context({ Dockerfile: 'FROM busybox\nRUN nosuchcommand\n' })]);
  assert.equal(notFound.code, 1);
  assert.match(notFound.stderr, /Dockerfile:2: .*exit code 127\n.*\n.*nosuchcommand: not found/);
  await fx.assertNoLeftovers();
});

test('COPY sources that are missing, ignored or outside the context fail with one line', async () => {
  const ctx = fx.context({
    Dockerfile: 'FROM busybox\nCOPY nothere /x\n',
    D2: 'FROM busybox\nCOPY ../etc/passwd /x\n',
    D3: 'FROM busybox\nCOPY secret.key /x\n',
    'secret.key': 'k',
    '.dockerignore': '*.key\n',
  });
  const cases: [string, RegExp][] = [
    ['Dockerfile', /^kiln: Dockerfile:2: COPY nothere: not found in the build context/],
    ['D2', /^kiln: D2:2: COPY \.\.\/etc\/passwd: forbidden path outside the build context/],
    ['D3', /^kiln: D3:2: COPY secret\.key: not found in the build context \(or excluded by \.dockerignore\)/],
  ];
  for (const [file, re] of cases) {
    const r = await fx.build(['-q', '-f', path.join(ctx, file), ctx]);
    assert.equal(r.code, 1, file);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});

test('a context that is not a directory, a bad -t, a FROM image that cannot be had: one line naming the path, the flag, or the FROM line and the image', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox AS a\nRUN true\nFROM 127.0.0.1:1/nothing/here:1\nCOPY --from=a /bin/sh /sh\n' });
  const missing = path.join(ctx, 'nosuchdir');
  const cases: [string[], string][] = [
    [[missing], `kiln: build context ${missing}: no such directory (give the directory to build from: kiln build [OPTIONS] PATH | URL | -)\n`],
    [[path.join(ctx, 'Dockerfile')], `kiln: build context ${path.join(ctx, 'Dockerfile')} is not a directory (give the directory to build from, and a Dockerfile elsewhere with -f FILE)\n`],
    [['-t', 'Bad:1', ctx], 'kiln: -t Bad:1: invalid reference format "Bad:1": repository name "library/Bad" must be lowercase (a reference looks like [registry/]repository[:tag][@sha256:digest], in lower case)\n'],
    [[ctx], 'kiln: Dockerfile:3: FROM 127.0.0.1:1/nothing/here:1: cannot reach registry 127.0.0.1:1: connection refused (check that the registry is running and the address is right)\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await fx.build(['-q', ...args]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', stderr], args.join(' '));
  }
  // A Dockerfile that is not there: -f names a path of its own; a context tar's paths are the context's.
  const given = await fx.build(['-q', '-f', missing, ctx]);
  assert.deepEqual([given.code, given.stderr], [1, `kiln: Dockerfile ${missing} not found (check the path given to -f: it is relative to the current directory)\n`]);
  const tar = execFileSync('tar', ['-C', ctx, '-c', '.']);
  const inTar = await fx.build(['-q', '-f', 'nosuch', '-'], tar);
  assert.deepEqual([inTar.code, inTar.stderr], [1, 'kiln: the build context has no nosuch (check the path given to -f: it is relative to the context)\n']);
});

test('inputs and outputs: context tar on stdin, Dockerfile on stdin, -f -, OCI and Docker archives, --iidfile', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'from-tar\n' });
  const tar = execFileSync('tar', ['-c', '-C', ctx, '.']);
  const iid = path.join(fx.tmp, 'iid');
  const fromTar = await fx.buildOk(['-q', '--iidfile', iid, '-t', 'stdin:1', '-'], tar);
  assert.equal(readFileSync(iid, 'utf8'), fromTar.stdout.trim());
  const dockerfileOnly = await fx.buildOk(['-q', '-t', 'stdin:2', '-'], 'FROM busybox\nRUN echo x > /x\n');
  assert.match(dockerfileOnly.stdout, /^sha256:/);
  const out = path.join(fx.tmp, 'out-dashf');
  await fx.buildOk(['-q', '-f', '-', '-o', `type=local,dest=${out}`, ctx], 'FROM busybox\nCOPY f /g\n');
  assert.equal(readFileSync(path.join(out, 'g'), 'utf8'), 'from-tar\n');
  const oci = path.join(fx.tmp, 'img.oci.tar');
  const docker = path.join(fx.tmp, 'img.docker.tar');
  await fx.buildOk(['-q', '-t', 'arch:1', '-o', `type=oci,dest=${oci}`, '-o', `type=docker,dest=${docker}`, ctx]);
  const ociList = execFileSync('tar', ['-tf', oci], { encoding: 'utf8' });
  assert.match(ociList, /^oci-layout$/m);
  assert.match(ociList, /^index.json$/m);
  const dockerList = execFileSync('tar', ['-tf', docker], { encoding: 'utf8' });
  assert.match(dockerList, /^manifest.json$/m);
});

test('SOURCE_DATE_EPOCH: two uncached builds give the same image ID', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY f /f\nRUN echo made > /made && mkdir /d\nENV X=1\n', f: 'x\n' });
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const a = await fx.buildOk(['-q', '--no-cache', ctx], undefined, env);
  const b = await fx.buildOk(['-q', '--no-cache', '-t', 'sde:1', ctx], undefined, env);
  assert.equal(a.stdout, b.stdout);
  const img = await fx.inspect('sde:1');
  assert.equal((img as unknown as { Created: string }).Created, '2023-11-14T22:13:20Z');
});

test('Ctrl-C during a RUN stops the build with exit 130 and leaves nothing behind', async () => {
  const { spawn } = await import('node:child_process');
  const { kilnBin } = await import('../testing/kiln.js');
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
  const child = spawn(process.execPath, [kilnBin(), '--root', fx.root, 'build', '--progress=plain', ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const started = new Promise<void>((resolve) =>
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/#2 \d+\.\d+ started/.test(stderr)) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await started;
  const t0 = performance.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.ok(performance.now() - t0 < 15_000, 'the sleeping container was stopped, not waited for');
  assert.match(stderr, /kiln: build cancelled by SIGINT/);
  await fx.assertNoLeftovers();
});

test('ADD of a URL with --checksum, COPY --exclude and --parents (with a pivot), --add-host, --metadata-file, a base image without the --platform', async () => {
  const http = await import('node:http');
  const body = 'downloaded bytes\n';
  const server = http.createServer((req, res) => {
    if (req.url === '/files/tool.txt') {
      res.writeHead(200, { 'last-modified': 'Wed, 01 Jan 2020 00:00:00 GMT' });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const { sha256Digest } = await import('../oci/digest.js');
    const sum = sha256Digest(body);
    const ctx = fx.context({
      Dockerfile: [
        'FROM busybox',
        `ADD --checksum=${sum} http://127.0.0.1:${port}/files/tool.txt /dl/`,
        'COPY --exclude=**/*.tmp src/ /ex/',
        'COPY --parents src/a/one.txt /par/',
        'COPY --parents src/./a/one.txt /piv/',
        'RUN grep -q "10.1.2.3[[:space:]]*db.internal" /etc/hosts && echo ok > /hosts-ok',
        '',
      ].join('\n'),
      'src/a/one.txt': '1',
      'src/a/skip.tmp': 'x',
      'src/two.txt': '2',
    });
    const out = path.join(fx.tmp, 'out-extra');
    const meta = path.join(fx.tmp, 'meta.json');
    const r = await fx.buildOk(['-q', '-t', 'extra:1', '--add-host', 'db.internal:10.1.2.3', '--metadata-file', meta, '-o', `type=local,dest=${out}`, ctx]);
    assert.equal(readFileSync(path.join(out, 'dl/tool.txt'), 'utf8'), body);
    const dl = statSync(path.join(out, 'dl/tool.txt'));
    assert.deepEqual([dl.mode & 0o777, dl.mtime.toISOString()], [0o600, '2020-01-01T00:00:00.000Z']);
    assert.deepEqual(readdirSync(path.join(out, 'ex')).sort(), ['a', 'two.txt']);
    assert.deepEqual(readdirSync(path.join(out, 'ex/a')), ['one.txt'], '--exclude=**/*.tmp');
    assert.equal(readFileSync(path.join(out, 'par/src/a/one.txt'), 'utf8'), '1');
    // `dir/./pattern` keeps the path below the pivot, as BuildKit's frontend does.
    assert.deepEqual([readFileSync(path.join(out, 'piv/a/one.txt'), 'utf8'), existsSync(path.join(out, 'piv/src'))], ['1', false]);
    assert.ok(existsSync(path.join(out, 'hosts-ok')));
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    assert.equal(m['containerimage.config.digest'], r.stdout.trim());
    assert.equal(m['image.name'], 'docker.io/library/extra:1');
    const bad = fx.context({ Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/tool.txt /x\n` });
    const mismatch = await fx.build(['-q', bad]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /^kiln: Dockerfile:2: ADD http:\/\/127\.0\.0\.1:\d+\/files\/tool\.txt: checksum mismatch/);
    const missing = await fx.build(['-q', fx.context({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/nope /x\n` })]);
    assert.match(missing.stderr, /^kiln: Dockerfile:2: ADD .*\/nope: download failed: HTTP 404/);
    const plat = await fx.build(['-q', '--platform', 'linux/s390x', ctx]);
    assert.equal(plat.code, 1);
    assert.match(plat.stderr, /^kiln: Dockerfile:1: image busybox has no manifest for platform linux\/s390x; it has linux\/amd64 \(pull it with --platform linux\/s390x, or build it for that platform\)\n$/);
  } finally {
    server.close();
  }
});

test('independent stages run in parallel; a failing stage cancels its siblings and leaves nothing behind', async () => {
  const ok = fx.context({
    Dockerfile: 'FROM busybox AS a\nRUN sleep 1 && echo a > /a\nFROM busybox AS b\nRUN sleep 1 && echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n',
  });
  const r = await fx.buildOk(['--progress=plain', ok]);
  const lines = r.stderr.split('\n');
  const startA = lines.findIndex((l) => /\[a 2\/2\] RUN/.test(l));
  const startB = lines.findIndex((l) => /\[b 2\/2\] RUN/.test(l));
  assert.ok(startA >= 0 && startB >= 0, r.stderr);
  const num = (i: number) => lines[i]!.split(' ')[0]!;
  const doneA = lines.findIndex((l) => l.startsWith(`${num(startA)} DONE`));
  const doneB = lines.findIndex((l) => l.startsWith(`${num(startB)} DONE`));
  assert.ok(doneA > 0 && doneB > 0, r.stderr);
  assert.ok(Math.max(startA, startB) < Math.min(doneA, doneB), `both RUN steps start before either ends:\n${r.stderr}`);
  const bad = fx.context({
    Dockerfile: 'FROM busybox AS slow\nRUN sleep 60\nFROM busybox AS bad\nRUN exit 4\nFROM busybox\nCOPY --from=slow /etc/passwd /p\nCOPY --from=bad /etc/group /g\n',
  });
  const t0 = performance.now();
  const f = await fx.build(['--progress=plain', bad]);
  assert.equal(f.code, 1);
  assert.ok(performance.now() - t0 < 30_000, 'the sleeping sibling was stopped');
  assert.match(f.stderr, /^kiln: Dockerfile:4: step \[bad 2\/2\] failed: `RUN exit 4`: exit code 4$/m);
  assert.match(f.stderr, /#(\d+) \[slow 2\/2\] RUN sleep 60\n[\s\S]*#\1 ERROR CANCELED/);
  await fx.assertNoLeftovers();
});

test('BuildKit details: hardlinks kept by COPY, --chown owns created parents, WORKDIR under USER is the user\'s, RUN has the primary group', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY hl /hl\nCOPY --chown=www:www hl/one /srv/deep/one\nUSER www\nWORKDIR /home/wdir\nRUN id > /home/wdir/id && touch /home/wdir/t\n', 'hl/one': 'x\n' });
  execFileSync('ln', [path.join(ctx, 'hl/one'), path.join(ctx, 'hl/two')]);
  const out = path.join(fx.tmp, 'out-bk');
  await fx.buildOk(['-q', '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(lstatSync(path.join(out, 'hl/one')).ino, lstatSync(path.join(out, 'hl/two')).ino);
  for (const d of ['srv', 'srv/deep', 'home/wdir']) {
    const st = lstatSync(path.join(out, d));
    assert.deepEqual([st.uid, st.gid], [1000, 1000], d);
  }
  assert.equal(readFileSync(path.join(out, 'home/wdir/id'), 'utf8'), 'uid=1000(www) gid=1000(www) groups=1000(www)\n');
});
