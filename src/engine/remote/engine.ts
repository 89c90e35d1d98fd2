/**
 * The remote backend: the Engine contract as calls to a kiln agent (`--host
 * tcp://…|unix://…`). Arguments and results travel as the contract's own JSON;
 * pull and push stream progress down; save, load and import stream bytes in
 * chunks with flow control. Builds are in build.ts. The agent runs no
 * containers for the client, so this engine has none.
 */
import type { Readable, Writable } from 'node:stream';
import type { ProgressEvent } from '../../image/progress.js';
import type { Engine, EngineInfo, ImportOptions, LoadedImage, PullResult, PushResult } from '../engine.js';
import { internal, invalidArgument } from '../../errors.js';
import { parseAddress } from './address.js';
import { remoteBuild } from './build.js';
import { remoteEvents } from './events.js';
import { chunkBytes, sendChunks, writeOut } from './chunks.js';
import { AgentConnection } from './connection.js';
import { forwardedCredentials } from './credentials.js';
import { toJson, type ProgressMsg } from './proto.js';
import { readTls, type TlsFiles } from '../../tls/client.js';

export interface RemoteEngineOptions {
  /** `tcp://HOST:PORT` or `unix:///PATH`. */
  host: string;
  /** Required for tcp:// (mutual TLS); ignored for unix://. */
  tls?: TlsFiles;
  /** Forward the client's registry credentials for the image a pull or push names (default true). */
  forwardCredentials?: boolean;
  /** How messages name the agent (default: the address). */
  label?: string;
}

/** What the agent's Info returns: its engine's info and its kiln version. */
export interface AgentInfo extends EngineInfo {
  version: string;
}

export async function openRemoteEngine(opts: RemoteEngineOptions): Promise<Engine> {
  const address = parseAddress(opts.host);
  if (address.kind === 'tcp' && !opts.tls) {
    throw invalidArgument(`${address.url}: a tcp:// agent needs TLS certificates`, { hint: 'pass --tlscacert/--tlscert/--tlskey, or set KILN_CERT_PATH to a directory with ca.pem, cert.pem and key.pem' });
  }
  const tls = address.kind === 'tcp' ? await readTls(opts.tls!) : undefined;
  const conn = new AgentConnection(address, tls, opts.label);
  const call = <T>(method: string, args: unknown, what: string) => conn.unary<T>(method, toJson(args), what);
  const creds = async (reference: string) => conn.metadata(opts.forwardCredentials === false ? {} : await forwardedCredentials(reference));

  async function progressCall<T>(method: 'Pull' | 'Push', args: unknown, reference: string, o: { progress?: { emit(e: ProgressEvent): void }; signal?: AbortSignal }): Promise<T> {
    const what = `${method.toLowerCase()} ${reference}`;
    for await (const m of conn.serverStream<ProgressMsg>(method, toJson(args), what, { signal: o.signal, md: await creds(reference) })) {
      if (m.event_json) o.progress?.emit(JSON.parse(m.event_json) as ProgressEvent);
      else if (m.result_json) return JSON.parse(m.result_json) as T;
    }
    throw internal(`the kiln agent at ${conn.host} ended ${what} without a result`);
  }

  const engine: Engine = {
    kind: 'remote',
    async info() {
      const agent = await call<AgentInfo>('Info', {}, 'info');
      return { backend: 'remote', root: conn.host, images: agent.images, blobs: agent.blobs, bytes: agent.bytes, serverVersion: agent.version, agent };
    },
    pull: (reference, o = {}) => progressCall<PullResult>('Pull', { reference, platform: o.platform }, reference, o),
    push: (reference, o = {}) => progressCall<PushResult>('Push', { reference, chunkSize: o.chunkSize }, reference, o),
    tag: (source, target) => call<void>('Tag', { source, target }, `tag ${source}`),
    pin: (references, pinned) => call<string[]>('Pin', { references, pinned }, `${pinned ? 'pin' : 'unpin'} ${references.join(' ')}`),
    listImages: (o) => call('ListImages', o ?? {}, 'list images'),
    inspectImage: (reference) => call('InspectImage', { reference }, `inspect ${reference}`),
    history: (reference) => call('History', { reference }, `history ${reference}`),
    removeImages: (references, o) => call('RemoveImages', { references, force: Boolean(o?.force) }, `remove ${references.join(' ')}`),
    async save(references: string[], out: Writable, o?: { format?: 'docker' | 'oci' }) {
      const messages = conn.serverStream<unknown>('Save', toJson({ references, format: o?.format }), `save ${references.join(' ')}`);
      for await (const data of chunkBytes(messages)) await writeOut(out, data);
    },
    load: (input: Readable) => conn.clientStream<LoadedImage[]>('Load', 'load', async (c) => void (await sendChunks(c, input, '{}'))),
    importRootfs: (input: Readable, o: ImportOptions = {}) => conn.clientStream<string>('Import', `import ${o.source ?? ''}`.trim(), async (c) => void (await sendChunks(c, input, JSON.stringify(o)))),
    build: (o) => remoteBuild(conn, o),
    prune: (o) => call('Prune', { all: Boolean(o?.all) }, 'prune'),
    pruneImages: (o) => call('PruneImages', { all: Boolean(o?.all) }, 'image prune'),
    pruneBuildCache: (o) => call('PruneBuildCache', { all: Boolean(o?.all) }, 'builder prune'),
    diskUsage: () => call('DiskUsage', {}, 'system df'),
    check: () => call('Check', {}, 'check'),
    events: (q) => remoteEvents(conn, q),
    async close() {
      conn.close();
    },
  };
  return engine;
}
