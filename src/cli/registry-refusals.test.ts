/**
 * Registries that refuse, as a user meets them on the command line: a plain-HTTP /v2/ answering 500 or 404, a
 * push answered 404, a 403, and a port that takes connections and never answers. Each is one line on stderr
 * naming the registry and what to do, exit 1. (Registries that misbehave mid-transfer: ./hostile-registry.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tinyImage, type TestImage } from '../testing/blobs.js';
import { startHostileRegistry } from '../testing/hostile.js';
import { kiln, kilnOk, oneLine, patientRegistryEnv } from '../testing/kiln.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cli-refusals-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let roots = 0;
function setup(): { root: string; env: Record<string, string> } {
  const root = path.join(tmp, `root-${++roots}`);
  return { root, env: { KILN_REGISTRIES_CONFIG: path.join(tmp, 'none.yaml'), DOCKER_CONFIG: path.join(tmp, 'docker'), ...patientRegistryEnv } };
}

test('a push of an image kiln does not have ends at once, at a registry that never answers', { timeout: 60_000 }, async () => {
  // A registry that accepts connections and never answers: nothing the push started may hold its exit until its
  // headers timeout (60 s).
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const { root, env } = setup();
  try {
    const t0 = Date.now();
    const r = await kiln(['--backend', 'local', 'push', `${host}/foo:none`], { root, env: { ...env, KILN_REGISTRY_HEADERS_TIMEOUT: '60s' } });
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), `kiln: no such image: ${host}/foo:none (pull it first: kiln pull ${host}/foo:none)`);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms (the headers timeout is 60 s)`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

/** A plain-HTTP server on 127.0.0.1 that answers every request with `status` and `body`. */
async function answering(status: number, body: string, type = 'text/html'): Promise<{ host: string; stop(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a plain-HTTP registry whose /v2/ answers 500 or 404: its answer in one line, no TLS talk', { timeout: 60_000 }, async () => {
  const failing = await answering(500, '{"errors":[{"code":"UNKNOWN","message":"internal boom"}]}', 'application/json');
  const notRegistry = await answering(404, '<html><body>404 page not found</body></html>');
  const { root, env } = setup();
  try {
    const r500 = await kiln(['--backend', 'local', 'pull', `${failing.host}/app:1`], { root, env });
    assert.equal(r500.code, 1);
    assert.equal(
      oneLine(r500.stderr),
      `kiln: registry ${failing.host} answered GET http://${failing.host}/v2/ with 500 Internal Server Error: unknown: internal boom` +
        ' (the registry is failing; try again later)',
    );
    const r404 = await kiln(['--backend', 'local', 'pull', `${notRegistry.host}/app:1`], { root, env });
    assert.equal(r404.code, 1);
    assert.equal(
      oneLine(r404.stderr),
      `kiln: registry ${notRegistry.host} answered GET http://${notRegistry.host}/v2/ with 404 Not Found` +
        ' (no registry API there: check the address and port, a registry answers GET /v2/ with 200 or 401)',
    );
  } finally {
    await failing.stop();
    await notRegistry.stop();
  }
});

/** A hostile registry serving `img` (as foo:latest) that answers the requests `when` picks with `status` and `body`. */
function refusing(img: TestImage, when: (url: string) => boolean, status: number, type: string, body: string): ReturnType<typeof startHostileRegistry> {
  return startHostileRegistry({
    image: img,
    misbehave: (req, res) => {
      if (!when(req.url!)) return false;
      res.writeHead(status, { 'content-type': type }).end(body);
      return true;
    },
  });
}

test('a push to a registry answering 404: the registry, the repository, what it has not, the request, what to do', { timeout: 60_000 }, async () => {
  const img = tinyImage();
  // foo:latest is served; every request for team/app (blob HEADs, upload POSTs, manifest PUTs) answers 404
  const reg = await refusing(img, (url) => url.startsWith('/v2/team/'), 404, 'text/html', '<html><body>404 page not found</body></html>');
  const { root, env } = setup();
  try {
    await kilnOk(['--backend', 'local', 'pull', `${reg.host}/foo:latest`], { root, env });
    await kilnOk(['--backend', 'local', 'tag', `${reg.host}/foo:latest`, `${reg.host}/team/app:1`], { root, env });
    const r = await kiln(['--backend', 'local', 'push', `${reg.host}/team/app:1`], { root, env });
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      `kiln: pushing ${reg.host}/team/app: the registry has no upload endpoint for team/app: POST /v2/team/app/blobs/uploads/ answered 404 Not Found` +
        ' (check the repository name, and that this registry takes pushes there: some need the repository created first)',
    );
  } finally {
    await reg.stop();
  }
});

test('a registry answering 403: one line whose hint names the login, with no parenthesis inside the hint', { timeout: 60_000 }, async () => {
  const img = tinyImage();
  const reg = await refusing(img, () => true, 403, 'application/json', '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
  const { root, env } = setup();
  try {
    const r = await kiln(['--backend', 'local', 'pull', `${reg.host}/team/app:1`], { root, env });
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      `kiln: pulling ${reg.host}/team/app: denied: requested access to the resource is denied` +
        ` (check that your account may access this repository, or log in as one that may: kiln login ${reg.host})`,
    );
  } finally {
    await reg.stop();
  }
});
