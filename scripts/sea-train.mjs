// The training runs behind the packaged executable's code caches
// (scripts/package.mjs, scripts/sea-loader.cjs): the bundle runs the everyday
// commands one after another under the loader, each starting from the caches
// the ones before it wrote, so the caches hold what all of them compiled.
// `pull` and `push` talk to a registry of one tiny image served here on
// loopback: a first pull, a pull with nothing to download, a push with nothing
// to send, a push that uploads its blobs. The remote client (gRPC, the agent API's generated code) runs `images`, `pull` and
// a build of one LABEL through an agent on a unix socket, then `images` and
// the build again over TCP with mutual TLS (the agent itself, with no cache
// to add to, is not trained). containerd's client bundle is loaded by `images`
// on a socket nothing listens on. `run` is left out: it would start
// a container at package time.
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A registry of one image (an empty layer), any repository name; blobs are shared by all of them. */
function tinyRegistry() {
  const tar = Buffer.alloc(1024);
  const layer = gzipSync(tar);
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;
  const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  const blobs = new Map([config, layer].map((b) => [sha(b), b]));
  /** blobs pushed to train/upload (they are the image's own: the same bytes) */
  const uploaded = new Set();
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-length': body?.length ?? 0, ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };
  return createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      if (url.pathname === '/v2/') return send(res, 200, Buffer.from('{}'));
      if (m?.[2] === 'manifests' && req.method === 'PUT') {
        const body = Buffer.concat(chunks);
        return send(res, 201, undefined, { 'docker-content-digest': sha(body), location: req.url });
      }
      if (m?.[2] === 'manifests') {
        return send(res, 200, manifest, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha(manifest) });
      }
      // train/upload* has only what was pushed to it: a push there uploads its blobs (POST, then PUT ?digest=)
      const upload = /^\/v2\/train\/upload[^/]*\/blobs\/uploads\/([^/]*)$/.exec(url.pathname);
      if (upload && req.method === 'POST' && !url.searchParams.has('mount')) {
        return send(res, 202, undefined, { location: `${url.pathname}${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 16)}` });
      }
      if (upload && req.method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? '';
        const body = Buffer.concat(chunks);
        if (sha(body) !== digest) return send(res, 400, Buffer.from('{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}'));
        uploaded.add(digest);
        return send(res, 201, undefined, { location: `/v2/train/upload/blobs/${digest}`, 'docker-content-digest': digest });
      }
      const servable = (name, digest) => blobs.has(digest) && (!name.startsWith('train/upload') || uploaded.has(digest));
      if (m?.[2] === 'blobs' && servable(m[1], m[3])) return send(res, 200, blobs.get(m[3]), { 'docker-content-digest': m[3] });
      if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/') && blobs.has(url.searchParams.get('mount') ?? '')) {
        return send(res, 201, undefined, { location: `/v2/blobs/${url.searchParams.get('mount')}` });
      }
      send(res, 404, Buffer.from('{"errors":[{"code":"UNKNOWN","message":"not served by the training registry"}]}'));
    });
  });
}

/** A free TCP port on loopback. */
async function freePort() {
  const s = createNetServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Runs the training commands on BUNDLE (kiln.cjs, its split bundles beside it) and leaves NAME.cache files in DIR. */
export async function train(bundle, dir) {
  const server = tinyRegistry();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reg = `127.0.0.1:${server.address().port}`;
  const root = mkdtempSync(path.join(tmpdir(), 'kiln-package-'));
  const run = (extra, args) =>
    promisify(execFile)(process.execPath, ['scripts/sea-loader.cjs', '--root', path.join(root, 'local'), ...args], {
      env: { ...process.env, ...extra, KILN_SEA_TRAIN: dir, KILN_SEA_BUNDLE: bundle },
    });
  const kiln = (...args) => run({}, args);
  kiln.env = (extra, ...args) => run(extra, args);
  const socket = path.join(root, 'agent.sock');
  // The agent runs from caches of its own, thrown away.
  const agentEnv = { ...process.env, KILN_SEA_BUNDLE: bundle, KILN_SEA_TRAIN: path.join(root, 'agent-caches') };
  mkdirSync(agentEnv.KILN_SEA_TRAIN);
  let agent;
  try {
    await kiln('--version');
    // containerd's client (its API bundle, ~10 ms to compile at every start without a cache): loaded by a command
    // on a socket nothing listens on, which then fails (no containerd is needed to package kiln).
    await kiln('--backend', 'containerd', '--address', path.join(root, 'no-containerd.sock'), 'images').then(
      () => Promise.reject(new Error('sea-train: kiln images on a socket nothing listens on succeeded')),
      () => undefined,
    );
    await kiln('images');
    await kiln('ps', '-a');
    await kiln('pull', '-q', `${reg}/train/tiny:1`);
    await kiln('pull', '-q', `${reg}/train/tiny:1`);
    await kiln('images');
    await kiln('tag', `${reg}/train/tiny:1`, `${reg}/train/pushed:1`);
    await kiln('push', '-q', `${reg}/train/pushed:1`);
    // A push that uploads (HEAD 404, POST, PUT): under another name for the same server, so no blob is mounted
    // from the image's other repositories there.
    const other = `localhost:${server.address().port}`;
    await kiln('tag', `${reg}/train/tiny:1`, `${other}/train/upload:1`);
    await kiln('push', '-q', `${other}/train/upload:1`);
    // A TCP listener as well (mutual TLS, with the certificates the agent makes): the TLS client's code is
    // what a remote build from another machine runs.
    const port = await freePort();
    const agentRoot = path.join(root, 'agent');
    agent = spawn(process.execPath, ['scripts/sea-loader.cjs', '--root', agentRoot, 'agent', '--listen', `unix://${socket}`, '--listen', `tcp://127.0.0.1:${port}`], {
      env: agentEnv,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    agent.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 600 && !/^ready$/m.test(out); i++) await sleep(50);
    const host = ['--host', `unix://${socket}`];
    await kiln(...host, 'images');
    await kiln(...host, 'pull', '-q', `${reg}/train/tiny:1`);
    const context = path.join(root, 'context');
    mkdirSync(context);
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${reg}/train/tiny:1\nLABEL trained=yes\n`);
    await kiln(...host, 'build', '-q', '-t', 'trained:1', context);
    await kiln(...host, 'build', '-q', '-t', 'trained:1', context);
    const tcp = { KILN_HOST: `tcp://127.0.0.1:${port}`, KILN_CERT_PATH: path.join(agentRoot, 'agent', 'tls') };
    await kiln.env(tcp, 'images');
    await kiln.env(tcp, 'build', '-q', '-t', 'trained:1', context);
    await kiln.env(tcp, 'build', '-q', '-t', 'trained:1', context);
  } finally {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGTERM');
      await exited;
    }
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
}
