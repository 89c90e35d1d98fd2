/**
 * `kiln pull` from a hostile registry (an in-process fake: the real one
 * cannot misbehave like this), as a user runs it: one line on stderr, exit 1,
 * and a store that `kiln system check` finds clean afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tinyImage } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { kiln } from '../testing/kiln.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-hostile-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const MiB = 1 << 20;
let roots = 0;

function setup(): { root: string; env: Record<string, string> } {
  const root = path.join(tmp, `root-${++roots}`);
  const env = {
    KILN_REGISTRIES_CONFIG: path.join(tmp, 'none.yaml'),
    DOCKER_CONFIG: path.join(tmp, 'docker'),
    KILN_REGISTRY_CONNECT_TIMEOUT: '1s',
    KILN_REGISTRY_HEADERS_TIMEOUT: '1s',
    KILN_REGISTRY_READ_TIMEOUT: '1s',
  };
  return { root, env };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  return lines[0]!;
}

async function checkClean(root: string, env: Record<string, string>): Promise<void> {
  const r = await kiln(['--backend', 'local', 'system', 'check'], { root, env });
  assert.equal(r.code, 0, `kiln system check:\n${r.stdout}${r.stderr}`);
}

test('a layer bigger than its descriptor: the pull stops reading at its size, one line, the store stays clean', { timeout: 60_000 }, async () => {
  const img = tinyImage(1024);
  let sent: Promise<number> | undefined;
  const reg = await startHostileRegistry({
    image: img,
    misbehave: (req, res, _n, r) => {
      if (!req.url!.endsWith(img.layer.digest)) return false;
      sent = r.flood(res, {}, 300 * MiB); // no Content-Length
      return true;
    },
  });
  const { root, env } = setup();
  try {
    const r = await kiln(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      `kiln: blob ${img.layer.digest} from ${reg.host}/foo sends more than the ${img.layer.size} bytes its descriptor says; refused` +
        ' (the registry serves other content than its manifest names; tell its operators, or pull from another registry)',
    );
    assert.ok((await sent!) < 32 * MiB, `the registry sent ${await sent} bytes`);
    await checkClean(root, env);
  } finally {
    await reg.stop();
  }
});
