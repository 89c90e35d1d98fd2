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
