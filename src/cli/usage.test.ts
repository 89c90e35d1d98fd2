import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kiln } from '../testing/kiln.js';
import { tempDir, removeDir } from '../testing/tempdir.js';

test('an unknown command is exit 1 with docker\'s message, whatever follows it (no global help, no exit 0)', async () => {
  const root = await tempDir('kiln-usage-');
  try {
    for (const args of [['swarm', '--help'], ['nosuch'], ['--root', root, 'frobnicate', 'x']]) {
      const r = await kiln(args, { root });
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `kiln: unknown command: kiln ${args.at(-2) === 'frobnicate' ? 'frobnicate' : args[0]}\n\nRun 'kiln --help' for more information\n`);
    }
  } finally {
    await removeDir(root);
  }
});

test('no command prints the help on stdout and exits 0, as docker does; known commands keep their own help', async () => {
  const root = await tempDir('kiln-usage-');
  try {
    const bare = await kiln([], { root });
    assert.equal(bare.code, 0);
    assert.match(bare.stdout, /^Usage: kiln \[options\] \[command\]/);
    assert.match(bare.stdout, /\n {2}images\|ls \[options\] \[repository\] +List images\n/);
    const images = await kiln(['images', '--help'], { root });
    assert.equal(images.code, 0);
    assert.match(images.stdout, /^Usage: kiln images\|ls \[options\] \[repository\]/);
    const helpImages = await kiln(['help', 'images'], { root });
    assert.equal(helpImages.stdout, images.stdout);
  } finally {
    await removeDir(root);
  }
});

test('a usage mistake is docker\'s: the mistake, the usage line, where the help is; exit 125 for a flag, 1 for the arguments', async () => {
  const root = await tempDir('kiln-usage-');
  try {
    const cases: [string[], number, string][] = [
      [['run', '--nosuch', 'busybox'], 125, "kiln: unknown option '--nosuch'\nUsage: kiln run [options] <image> [command...]\nRun 'kiln run --help' for more information\n"],
      [['images', '-f'], 125, "kiln: option '-f, --filter <filter>' argument missing\nUsage: kiln images|ls [options] [repository]\nRun 'kiln images --help' for more information\n"],
      [['--nosuch', 'images'], 125, "kiln: unknown option '--nosuch'\nUsage: kiln [options] [command]\nRun 'kiln --help' for more information\n"],
      [['volume', 'create', '--bogus'], 125, "kiln: unknown option '--bogus'\nUsage: kiln volume create [options] [name]\nRun 'kiln volume create --help' for more information\n"],
      [['run'], 1, "kiln: missing required argument 'image'\nUsage: kiln run [options] <image> [command...]\nRun 'kiln run --help' for more information\n"],
      [['exec', 'web'], 1, "kiln: missing required argument 'command'\nUsage: kiln exec [options] <container> <command...>\nRun 'kiln exec --help' for more information\n"],
      [['tag', 'a', 'b', 'c'], 1, "kiln: too many arguments for 'tag'. Expected 2 arguments but got 3.\nUsage: kiln tag [options] <source> <target>\nRun 'kiln tag --help' for more information\n"],
      [['image', 'nosuch'], 1, "kiln: unknown command: kiln image nosuch\nUsage: kiln image [options] [command]\nRun 'kiln image --help' for more information\n"],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await kiln(args, { root });
      assert.deepEqual([r.code, r.stdout, r.stderr], [code, '', stderr], args.join(' '));
    }
    // A group without its subcommand shows the group's help, exit 0 (docker: `docker image`).
    const group = await kiln(['image'], { root });
    assert.equal(group.code, 0);
    assert.match(group.stderr, /^Usage: kiln image \[options\] \[command\]\n/);
  } finally {
    await removeDir(root);
  }
});
