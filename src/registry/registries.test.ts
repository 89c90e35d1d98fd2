import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, removeDir } from '../testing/tempdir.js';
import { isKilnError } from '../errors.js';
import { defaultRegistriesFiles, loadRegistriesConfig, parseRegistriesConfig } from './registries.js';

let dir: string;
before(async () => {
  dir = await tempDir();
});
after(() => removeDir(dir));

const K3S = `mirrors:
  docker.io:
    endpoint:
      - "https://mirror.example.com:5000"
    rewrite:
      "^rancher/(.*)": "mirrorproject/rancher-images/$1"
configs:
  "mirror.example.com:5000":
    auth:
      username: xxxxxx
      password: xxxxxx
    tls:
      cert_file: /etc/ssl/client.crt
      key_file: /etc/ssl/client.key
      ca_file: /etc/ssl/ca.crt
      insecure_skip_verify: false
`;

test('parses the k3s registries.yaml format', async () => {
  assert.deepEqual(await parseRegistriesConfig(K3S, 'registries.yaml'), {
    mirrors: { 'docker.io': { endpoint: ['https://mirror.example.com:5000'], rewrite: { '^rancher/(.*)': 'mirrorproject/rancher-images/$1' } } },
    configs: {
      'mirror.example.com:5000': {
        auth: { username: 'xxxxxx', password: 'xxxxxx' },
        tls: { cert_file: '/etc/ssl/client.crt', key_file: '/etc/ssl/client.key', ca_file: '/etc/ssl/ca.crt', insecure_skip_verify: false },
      },
    },
  });
  assert.deepEqual(await parseRegistriesConfig('', 'empty.yaml'), {});
});

test('bad files are named in the error', async () => {
  await assert.rejects(parseRegistriesConfig('mirrors: [1]', '/etc/x.yaml'), (e: unknown) => {
    assert.ok(isKilnError(e, 'INVALID_ARGUMENT'));
    assert.equal(e.message, '/etc/x.yaml: mirrors must be a mapping of host → {endpoint, rewrite}');
    return true;
  });
  await assert.rejects(parseRegistriesConfig('mirrors:\n  a:\n    rewrite:\n      "(": x\n', 'r.yaml'), /r\.yaml: mirrors\.a\.rewrite: bad regular expression "\("/);
  await assert.rejects(parseRegistriesConfig('a: [', 'y.yaml'), /^KilnError: y\.yaml: not valid YAML/);
});

test('files merge in order, missing ones are skipped, KILN_REGISTRIES_CONFIG overrides', async () => {
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFile(a, 'mirrors:\n  x.io:\n    endpoint: ["http://a"]\n  y.io:\n    endpoint: ["http://y"]\n');
  await writeFile(b, 'mirrors:\n  x.io:\n    endpoint: ["http://b"]\ninsecure: ["10.0.0.1:5000"]\n');
  const cfg = await loadRegistriesConfig([a, path.join(dir, 'missing.yaml'), b]);
  assert.deepEqual(cfg.mirrors?.['x.io'].endpoint, ['http://b']);
  assert.deepEqual(cfg.mirrors?.['y.io'].endpoint, ['http://y']);
  assert.deepEqual(cfg.insecure, ['10.0.0.1:5000']);
  const old = process.env.KILN_REGISTRIES_CONFIG;
  process.env.KILN_REGISTRIES_CONFIG = a;
  try {
    assert.deepEqual(defaultRegistriesFiles(), [a]);
  } finally {
    if (old === undefined) delete process.env.KILN_REGISTRIES_CONFIG;
    else process.env.KILN_REGISTRIES_CONFIG = old;
  }
});
