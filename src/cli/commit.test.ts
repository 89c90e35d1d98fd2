import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { containerFixture, IMAGE, until, type ContainerFixture } from '../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

const run = (image: string, ...cmd: string[]) => fx.ok(['run', '--rm', '--network', 'none', image, ...cmd]);

test('commit: a running container\'s changes as a new image (docker\'s output: its id); files added, changed and deleted; -a -m -c; the container keeps running', async () => {
  const script = 'echo hi > /tmp/f; rm /bin/vi; echo more >> /etc/passwd; touch /tmp/ready; sleep 300';
  await fx.ok(['run', '-d', '--name', 'src', '--network', 'none', '-e', 'FROM_RUN=1', IMAGE, 'sh', '-c', script]);
  await until('the container to make its changes', async () => (await fx.k(['exec', 'src', 'test', '-e', '/tmp/ready'])).code === 0);

  const r = await fx.ok(['commit', '-a', 'Ann <ann@example.com>', '-m', 'first commit', '-c', 'CMD ["cat", "/tmp/f"]', '-c', 'ENV X=1', '-c', 'LABEL stage=one', 'src', 'committed:1']);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(r.stderr, '');
  const id = r.stdout.trim();
  assert.equal((await fx.ok(['inspect', '-f', '{{.Id}}|{{.Author}}|{{.Comment}}|{{.Config.Labels.stage}}|{{json .Config.Cmd}}', 'committed:1'])).stdout, `${id}|Ann <ann@example.com>|first commit|one|["cat","/tmp/f"]\n`);

  // -c CMD is the new image's command; the file is there, the deleted one gone, the changed one changed.
  assert.equal((await run('committed:1')).stdout, 'hi\n');
  assert.equal((await run('committed:1', 'sh', '-c', 'test -e /bin/vi; echo $? $X $FROM_RUN; tail -1 /etc/passwd')).stdout, '1 1 1\nmore\n');
  assert.equal((await run(IMAGE, 'sh', '-c', 'test -e /bin/vi; echo $?')).stdout, '0\n', 'the base image is unchanged');
  // kiln's network files are not part of the layer (docker's are bind mounts).
  const hostname = (await run('committed:1', 'cat', '/etc/hostname')).stdout;
  assert.notEqual(hostname, (await fx.ok(['exec', 'src', 'cat', '/etc/hostname'])).stdout);

  // history: one new row on top, with the message as its comment (docker's columns).
  const history = (await fx.ok(['history', 'committed:1'])).stdout.split('\n');
  assert.match(history[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(history[1]!, new RegExp(`^${id.slice(7, 19)}\\s+.*sh -c echo hi.*\\s+first commit$`));
  assert.equal(history.filter(Boolean).length, (await fx.ok(['history', '-q', IMAGE])).stdout.split('\n').filter(Boolean).length + 2);

  // The container was paused only for the commit.
  assert.equal((await fx.ok(['exec', 'src', 'echo', 'alive'])).stdout, 'alive\n');
  assert.equal((await fx.ok(['ps', '--format', '{{.Names}} {{.State}}'])).stdout, 'src running\n');

  // Without a name: <none>:<none>, listed as dangling; --pause=false is accepted.
  const unnamed = (await fx.ok(['commit', '--pause=false', 'src'])).stdout.trim();
  assert.match(unnamed, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await fx.ok(['images', '-f', 'dangling=true', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout, `<none>:<none> ${unnamed.slice(7, 19)}\n`);
  const events = (await fx.ok(['events', '--since', '0', '--until', new Date(Date.now() + 1000).toISOString(), '--filter', 'event=commit'])).stdout.trim().split('\n');
  assert.equal(events.length, 2, events.join('\n'));
  assert.match(events[0]!, / container commit [0-9a-f]{64} \(name=src, image=docker.io\/library\/busybox:test, imageName=committed:1\)$/);
  await fx.ok(['rm', '-f', 'src']);
});

test('commit refuses in one line: a stopped container (kiln roots are ephemeral), an unknown instruction, a bad name, an unknown container', async () => {
  await fx.ok(['create', '--name', 'idle', '--network', 'none', IMAGE, 'true']);
  const images = (await fx.ok(['images', '-q'])).stdout;
  const cases: [string[], RegExp][] = [
    [['commit', 'idle'], /^kiln: container idle is not running: a kiln container's filesystem exists only while it runs/],
    [['commit', '-c', 'RUN echo x', 'idle'], /^kiln: --change "RUN echo x": /],
    [['commit', 'idle', 'Bad:Name:x'], /^kiln: .*Bad:Name:x/],
    [['commit', 'nosuch'], /^kiln: no such container: nosuch/],
  ];
  for (const [args, want] of cases) {
    const r = await fx.k(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
  assert.equal((await fx.ok(['images', '-q'])).stdout, images, 'no image was made');
  await fx.ok(['rm', 'idle']);
});
