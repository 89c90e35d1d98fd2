import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../parser/parse.js';
import { buildInstruction } from './build.js';
import { expandInstruction } from './expand.js';
import { envFrom } from '../shell/lex.js';
import type { Instruction } from './types.js';

const one = (line: string): Instruction => buildInstruction(parseDockerfile(line).nodes[0]);
const fails = (text: string, message: RegExp) =>
  assert.throws(() => parseDockerfile(text).nodes.forEach((n) => buildInstruction(n)), { message });

test('FROM with --platform and AS', () => {
  const f = one('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build');
  assert.deepEqual({ ...f, loc: undefined }, { kind: 'from', loc: undefined, image: 'golang:1.22', platform: '$BUILDPLATFORM', stageName: 'build' });
  fails('FROM a AS 1x', /^Dockerfile:1:11: invalid name for build stage: "1x"/);
  fails('FROM a b', /FROM requires either one or three arguments/);
  fails('FROM --plat=x a', /^Dockerfile:1:6: unknown flag --plat for FROM \(it accepts --platform\)/);
});

test('RUN shell and exec forms, mounts, network, security', () => {
  const r = one('RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=tok,required \\\n --mount=type=bind,from=build,source=/out,target=/in,rw --network=none --security=insecure make all');
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  assert.deepEqual(r.command, { form: 'shell', script: 'make all' });
  assert.equal(r.network, 'none');
  assert.equal(r.security, 'insecure');
  assert.deepEqual(r.mounts, [
    { type: 'cache', readonly: false, target: '/root/.cache', sharing: 'locked', id: '/root/.cache' },
    { type: 'secret', readonly: true, id: 'tok', required: true },
    { type: 'bind', readonly: false, target: '/in', source: '/out', from: 'build' },
  ]);
  const tmp = one('RUN --mount=type=tmpfs,dst=/tmp,size=64m --mount=type=ssh ["ls", "-l"]');
  if (tmp.kind !== 'run') return assert.fail();
  assert.deepEqual(tmp.command, { form: 'exec', args: ['ls', '-l'] });
  assert.deepEqual(tmp.mounts[0], { type: 'tmpfs', readonly: false, target: '/tmp', size: 64 * 1024 * 1024 });
  assert.deepEqual(tmp.mounts[1], { type: 'ssh', readonly: true });
  const cache = one('RUN --mount=type=cache,target=/c,id=x,mode=0700,uid=10,gid=20,ro true');
  if (cache.kind !== 'run') return assert.fail();
  assert.deepEqual(cache.mounts[0], { type: 'cache', readonly: true, target: '/c', id: 'x', sharing: 'shared', mode: 0o700, uid: 10, gid: 20 });
});

test('bad --mount options are located and explained', () => {
  fails('RUN --mount=type=cache,target=/c,sharing=everyone true', /^Dockerfile:1:5: bad --mount=type=cache,target=\/c,sharing=everyone: unsupported sharing value "everyone"/);
  fails('RUN --mount=type=nfs,target=/x true', /unsupported mount type "nfs"/);
  fails('RUN --mount=type=bind,foo=bar,target=/x true', /unexpected key 'foo'/);
  fails('RUN --mount=type=tmpfs,from=x,target=/x true', /option from is not valid for a tmpfs mount/);
  fails('RUN --mount=type=cache true', /a cache mount needs target=PATH/);
  fails('RUN --mount=type=cache,target=/c,mode=999 true', /expected an octal mode/);
  fails('RUN --network=bridge true', /unsupported --network=bridge/);
  fails('RUN --mount true', /missing a value on flag --mount/);
});

test('COPY and ADD flags, heredoc sources', () => {
  const c = one('COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=tmp a b /dst/');
  assert.deepEqual({ ...c, loc: undefined }, {
    kind: 'copy', loc: undefined, sources: [{ kind: 'path', path: 'a' }, { kind: 'path', path: 'b' }], dest: '/dst/',
    from: 'build', chown: 'app:app', chmod: '0755', link: true, parents: true, exclude: ['*.md', 'tmp'], checksum: undefined, keepGitDir: false,
  });
  const a = one('ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --keep-git-dir=true https://x/y.tar /y');
  if (a.kind !== 'add') return assert.fail();
  assert.equal(a.keepGitDir, true);
  assert.match(a.checksum ?? '', /^sha256:/);
  // --checksum pins one remote source, as BuildKit's dispatchCopy requires (a heredoc beside it is allowed).
  const sum = 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d';
  assert.equal((one(`ADD --checksum=${sum} https://x/y.txt <<EOF /d/\nx\nEOF\n`) as { sources: unknown[] }).sources.length, 2);
  fails(`ADD --checksum=${sum} f.txt <<EOF /d/\nx\nEOF\n`, /^Dockerfile:1:88: ADD --checksum requires an http\(s\) URL or a git repository: f.txt is a local path: `ADD/);
  fails(`ADD --checksum=${sum} https://x/a https://x/b /d/`, /^Dockerfile:1: ADD --checksum needs exactly one source, an http\(s\) URL or a git repository: 2 are given: `ADD/);
  fails(`FROM a\nADD --checksum=${sum} <<EOF /d/\nx\nEOF\n`, /^Dockerfile:2: ADD --checksum needs exactly one source, an http\(s\) URL or a git repository: 0 are given: `ADD/);
  fails('ADD --from=x a b', /unknown flag --from for ADD/);
  fails('COPY --parents=maybe a b', /expecting boolean value for flag --parents, not: maybe/);
  fails('COPY onlyone', /^Dockerfile:1: COPY requires at least two arguments, but only one was provided/);
  fails('COPY --chmod=abc a b', /invalid --chmod=abc/);
  const h = buildInstruction(parseDockerfile('COPY <<EOF /etc/motd\nhello $NAME "x"\nEOF\n').nodes[0]);
  if (h.kind !== 'copy') return assert.fail();
  assert.deepEqual(h.sources, [{ kind: 'heredoc', heredoc: { name: 'EOF', content: 'hello $NAME "x"\n', expand: true, chomp: false, fd: 0 } }]);
  const ex = expandInstruction(h, envFrom({ NAME: 'kiln' }));
  assert.deepEqual(ex.sources[0], { kind: 'heredoc', heredoc: { name: 'EOF', content: 'hello kiln "x"\n', expand: true, chomp: false, fd: 0 } });
});

test('ENV, LABEL, ARG keep raw values; expansion follows Docker', () => {
  const e = one('ENV A=1 B="two words" C=${A}x');
  if (e.kind !== 'env') return assert.fail();
  assert.deepEqual(e.pairs, [{ key: 'A', value: '1' }, { key: 'B', value: '"two words"' }, { key: 'C', value: '${A}x' }]);
  const ex = expandInstruction(e, envFrom({ A: 'a' }));
  assert.deepEqual(ex.pairs, [{ key: 'A', value: '1' }, { key: 'B', value: 'two words' }, { key: 'C', value: 'ax' }]);
  // One ENV line is expanded with the environment from before it (Docker's rule).
  const same = one('ENV A=new B=$A');
  assert.deepEqual(same.kind === 'env' && expandInstruction(same, envFrom({ A: 'old' })).pairs, [{ key: 'A', value: 'new' }, { key: 'B', value: 'old' }]);
  const old = one('ENV PATH /usr/local/bin:$PATH');
  if (old.kind !== 'env') return assert.fail();
  assert.deepEqual(expandInstruction(old, envFrom({ PATH: '/bin' })).pairs, [{ key: 'PATH', value: '/usr/local/bin:/bin' }]);
  const arg = one('ARG A B=2 C="x y"');
  assert.deepEqual(arg.kind === 'arg' && arg.args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '"x y"' }]);
  const label = one('LABEL "com.example.v"="1.0" desc="a b"');
  assert.deepEqual(label.kind === 'label' && expandInstruction(label, envFrom({})).pairs, [{ key: 'com.example.v', value: '1.0' }, { key: 'desc', value: 'a b' }]);
});

test('WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL expand; RUN, CMD do not', () => {
  const env = envFrom({ HOME: '/home/app', PORTS: '80 443/udp', U: 'app' });
  const w = expandInstruction(one('WORKDIR $HOME/src'), env);
  assert.equal(w.kind === 'workdir' && w.path, '/home/app/src');
  const u = expandInstruction(one('USER ${U}:${U}'), env);
  assert.equal(u.kind === 'user' && u.user, 'app:app');
  const x = expandInstruction(one('EXPOSE $PORTS 8000-8010/tcp'), env);
  assert.deepEqual(x.kind === 'expose' && x.ports, ['80', '443/udp', '8000-8010/tcp']);
  const v = expandInstruction(one('VOLUME ["$HOME/data", "/x"]'), env);
  assert.deepEqual(v.kind === 'volume' && v.paths, ['/home/app/data', '/x']);
  const r = expandInstruction(one('RUN echo $HOME'), env);
  assert.deepEqual(r.kind === 'run' && r.command, { form: 'shell', script: 'echo $HOME' });
  const cmd = one('CMD ["echo", "$HOME"]');
  assert.deepEqual(expandInstruction(cmd, env), cmd);
  fails('EXPOSE 80/xyz', /invalid EXPOSE port "80\/xyz"/);
  fails('WORKDIR', /WORKDIR requires exactly one argument/);
  fails('VOLUME [""]', /VOLUME specified can not be an empty string/);
});

test('HEALTHCHECK: all flags, NONE, durations in nanoseconds', () => {
  const h = one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/');
  assert.deepEqual({ ...h, loc: undefined }, {
    kind: 'healthcheck', loc: undefined, test: ['CMD-SHELL', 'curl -f http://localhost/'],
    interval: 30e9, timeout: 90e9, startPeriod: 5e9, startInterval: 5e8, retries: 3,
  });
  const j = one('HEALTHCHECK CMD ["/check", "-q"]');
  assert.deepEqual(j.kind === 'healthcheck' && j.test, ['CMD', '/check', '-q']);
  assert.deepEqual((one('HEALTHCHECK NONE') as { test: string[] }).test, ['NONE']);
  fails('HEALTHCHECK CONNECT TCP 7000', /unknown type "CONNECT" in HEALTHCHECK \(try CMD\)/);
  fails('HEALTHCHECK --interval=5 CMD x', /invalid --interval=5: expected a duration/);
  fails('HEALTHCHECK --retries=-1 CMD x', /--retries cannot be negative/);
  fails('HEALTHCHECK NONE x', /HEALTHCHECK NONE takes no arguments/);
});

test('SHELL, ENTRYPOINT, ONBUILD, MAINTAINER, STOPSIGNAL', () => {
  assert.deepEqual((one('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]') as { shell: string[] }).shell, ['/bin/bash', '-eo', 'pipefail', '-c']);
  fails('SHELL /bin/bash -c', /SHELL requires the arguments to be in JSON form/);
  assert.deepEqual((one('ENTRYPOINT ["/init"]') as { command: unknown }).command, { form: 'exec', args: ['/init'] });
  const o = one('ONBUILD COPY --chown=1 . /app');
  if (o.kind !== 'onbuild') return assert.fail();
  assert.equal(o.trigger, 'COPY --chown=1 . /app');
  const h = one('ONBUILD RUN <<EOF\necho hi\nEOF\n');
  assert.equal(h.kind === 'onbuild' && h.trigger, 'RUN <<EOF\necho hi\nEOF');
  fails('COPY a <<EOF\nx\nEOF\n', /^Dockerfile:1:8: COPY cannot accept a heredoc as a destination/);
  assert.deepEqual((one('CMD') as { command: unknown }).command, { form: 'shell', script: '' });
  assert.deepEqual((one('VOLUME [" /data "]') as { paths: string[] }).paths, ['/data']);
  assert.equal(o.instruction.kind, 'copy');
  fails('ONBUILD ONBUILD RUN x', /chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  fails('ONBUILD FROM x', /FROM isn't allowed as an ONBUILD trigger/);
  assert.equal((one('MAINTAINER Jane <j@x>') as { name: string }).name, 'Jane <j@x>');
  assert.equal((one('STOPSIGNAL SIGTERM') as { signal: string }).signal, 'SIGTERM');
});

test('unknown instructions suggest the closest one', () => {
  fails('FROM a\n\n  RUNN echo hi', /^Dockerfile:3:3: unknown instruction "RUNN" \(did you mean RUN\?\): `RUNN echo hi`$/);
  fails('FROM a\nCOPPY a b', /unknown instruction "COPPY" \(did you mean COPY\?\)/);
  fails('FROM a\nFOOBARBAZ x', /^Dockerfile:2:1: unknown instruction "FOOBARBAZ": `FOOBARBAZ x`$/);
});
