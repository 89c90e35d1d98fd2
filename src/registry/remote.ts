/** A Repository on one endpoint (the registry itself or one mirror). */
import type { Readable } from 'node:stream';
import type { Answer, AnswerHeaders } from './transport/answer.js';
import { dataLoss, invalidArgument, unavailable } from '../errors.js';
import { manifestAccept } from '../oci/mediatypes.js';
import type { Descriptor } from '../oci/types.js';
import { readBlob } from './blobreader.js';
import { digestAlgorithm, digestBytes, isDigest } from './digest.js';
import type { Endpoint } from './endpoints.js';
import type { GetBlobOptions, PushBlobOptions, Repository } from './repository.js';
import { responseError, type ErrorContext } from './transport/errors.js';
import { isResetError, isRetryableError, netErrorCode } from './transport/neterror.js';
import { sleep, type RetryOptions } from './transport/retry.js';
import type { Transport, TransportRequest } from './transport/transport.js';
import { drop, watched } from './transport/watchdog.js';
import { uploadBlob } from './upload.js';

/** What to do when a push's repository or upload endpoint is not there. */
const PUSH_404_HINT = 'check the repository name, and that this registry takes pushes there: some need the repository created first';
/** What to do when an upload session the registry opened is gone. */
const PUSH_LOST_HINT = "push again; if it keeps happening, check the registry's logs and any proxy in front of it";

/** Manifests bigger than this are refused (containerd's limit). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export class EndpointRepository implements Repository {
  readonly domain: string;
  readonly path: string;

  constructor(
    readonly transport: Transport,
    readonly endpoint: Endpoint,
    /** `pulling` or `pushing` */
    private readonly verb: string,
    private readonly retry: RetryOptions,
    /** the repository path the user asked for (before mirror rewrites) */
    userPath: string,
  ) {
    this.domain = endpoint.domain;
    this.path = userPath;
  }

  /** `127.0.0.1:5000/foo` as the user names it. */
  get name(): string {
    return `${this.domain}/${this.path}`;
  }

  private ctx(message?: ErrorContext['message'], hint?: string): ErrorContext {
    const via = this.endpoint.mirror ? ` via mirror ${this.endpoint.host}/${this.endpoint.path}` : '';
    return { what: `${this.verb} ${this.name}${via}`, domain: this.domain, hadCredentials: this.transport.hadCredentials, message, hint };
  }

  private refName(reference: string): string {
    return `${this.name}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  /** The registry's error for `res`; a 404 says `message` (and `hint`) instead of a bare "not found". */
  private async fail(res: Answer, message?: ErrorContext['message'], hint?: string): Promise<never> {
    throw await responseError(res, res.status === 404 ? this.ctx(message, hint) : this.ctx());
  }

  /** A push request answered 404: what the registry did not have, the request and its answer, what to do. */
  private pushNotFound(res: Answer, missing: string, req: string, hint = PUSH_404_HINT): Promise<never> {
    return this.fail(res, (detail) => `${this.ctx().what}: the registry has no ${missing}: ${req} answered ${detail}`, hint);
  }

  private manifestPath(reference: string): string {
    return `/${this.endpoint.path}/manifests/${reference}`;
  }

  prepare(): void {
    this.transport.prepare();
  }

  async getManifest(reference: string): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
    const req: TransportRequest = { method: 'GET', path: this.manifestPath(reference), headers: { accept: manifestAccept } };
    let got: { headers: AnswerHeaders; bytes: Buffer } | undefined;
    for (let i = 1; !got; i++) {
      const res = await this.transport.download(req);
      if (res.status !== 200) {
        if (res.response) return this.fail(res.response, `manifest for ${this.refName(reference)} not found`);
        drop(res.body);
        throw invalidArgument(`${this.verb} ${this.name}: the registry answered ${res.status} to ${this.transport.where(req)}`);
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_MANIFEST_BYTES) {
        drop(res.body);
        throw invalidArgument(`manifest for ${this.refName(reference)} is ${length} bytes, more than the ${MAX_MANIFEST_BYTES} kiln accepts`);
      }
      try {
        const bytes = await readSmall(res.body, this.transport.timeouts.readMs, MAX_MANIFEST_BYTES);
        if (bytes === undefined) {
          throw invalidArgument(`manifest for ${this.refName(reference)} is more than the ${MAX_MANIFEST_BYTES} bytes kiln accepts; refused`, {
            hint: 'the registry sent more than any image manifest needs; check the reference, or the registry',
          });
        }
        got = { headers: res.headers, bytes };
      } catch (e) {
        // a body that stalled or was cut: ask again, as for an answer that never came
        const code = netErrorCode(e);
        if (!isRetryableError(code)) throw e;
        if (i >= this.transport.attempts) {
          if (!isResetError(code)) throw this.transport.failure(req, e);
          throw unavailable(
            `${this.verb} ${this.name}: ${this.endpoint.host} reset the connection in the middle of the manifest for ${this.refName(reference)} (${i} attempts)`,
            { cause: e, hint: "try again; if it keeps happening, check the registry's logs and the limits of any proxy in front of it" },
          );
        }
        await sleep((this.retry.baseDelayMs ?? 100) * 3 ** (i - 1));
      }
    }
    const { bytes, headers } = got;
    const algo = isDigest(reference) ? digestAlgorithm(reference) : 'sha256';
    const digest = digestBytes(bytes, algo);
    if (isDigest(reference) && digest !== reference) {
      throw dataLoss(`manifest for ${this.refName(reference)} from ${this.endpoint.host} hashes to ${digest}`, {
        hint: 'the registry or a proxy altered the content; try again or use another mirror',
      });
    }
    if (!isDigest(reference)) this.checkDigestHeader(reference, headers, bytes);
    return { descriptor: { mediaType: manifestMediaType(headers, bytes), digest, size: bytes.length }, bytes };
  }

  /** A tag's Docker-Content-Digest must name the bytes sent (containerd refuses otherwise). */
  private checkDigestHeader(reference: string, headers: AnswerHeaders, bytes: Buffer): void {
    const said = headers.get('docker-content-digest')?.trim();
    if (!said) return;
    let got: string | undefined;
    try {
      got = isDigest(said) ? digestBytes(bytes, digestAlgorithm(said)) : undefined;
    } catch {
      got = undefined; // an algorithm kiln does not know: cannot match
    }
    if (got === said) return;
    throw dataLoss(
      `manifest for ${this.refName(reference)} from ${this.endpoint.host}: the registry says Docker-Content-Digest ${said}, ` +
        `but the manifest it sent hashes to ${got ?? digestBytes(bytes)}; refused`,
      { hint: `the registry or a proxy in front of it is broken or altered the content; pull by digest (${this.name}@sha256:…) or tell its operators` },
    );
  }

  async headManifest(reference: string): Promise<Descriptor | undefined> {
    const res = await this.transport.request({ method: 'HEAD', path: this.manifestPath(reference), headers: { accept: manifestAccept } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.fail(res);
    const digest = res.headers.get('docker-content-digest') ?? (isDigest(reference) ? reference : undefined);
    const size = Number(res.headers.get('content-length'));
    const mediaType = res.headers.get('content-type')?.split(';')[0].trim();
    if (digest && Number.isFinite(size) && size > 0 && mediaType) return { mediaType, digest, size };
    // a registry that does not say enough on HEAD: ask with GET
    return (await this.getManifest(reference)).descriptor;
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const algo = isDigest(reference) ? digestAlgorithm(reference) : 'sha256';
    const digest = digestBytes(bytes, algo);
    if (isDigest(reference) && digest !== reference) {
      throw invalidArgument(`manifest pushed as ${this.refName(reference)} hashes to ${digest}`, { hint: 'push it by its own digest' });
    }
    const res = await this.transport.request({ method: 'PUT', path: this.manifestPath(reference), headers: { 'content-type': mediaType }, body: bytes });
    if (res.status === 404) return this.pushNotFound(res, `repository ${this.path} to take the manifest`, this.transport.where({ method: 'PUT', path: this.manifestPath(reference) }));
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) return this.fail(res);
    return digest;
  }

  async statBlob(digest: string): Promise<number | undefined> {
    // (a push's first request: no ping before it, transport.ts early)
    const res = await this.transport.early({ method: 'HEAD', path: `/${this.endpoint.path}/blobs/${digest}` });
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.fail(res);
    // present; -1 when a proxy dropped the length
    const size = Number(res.headers.get('content-length') ?? NaN);
    return Number.isFinite(size) ? size : -1;
  }

  async getBlob(digest: string, opts: GetBlobOptions = {}): Promise<Readable> {
    digestAlgorithm(digest);
    return readBlob({
      digest,
      offset: opts.offset ?? 0,
      verify: opts.verify ?? true,
      attempts: this.retry.attempts ?? 4,
      readMs: this.transport.timeouts.readMs,
      size: opts.size,
      ...(opts.progress ? { progress: opts.progress } : {}),
      source: `${this.name}${this.endpoint.mirror ? ` (mirror ${this.endpoint.host})` : ''}`,
      open: async (offset) => {
        const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
        const res = await this.transport.download({ method: 'GET', path: `/${this.endpoint.path}/blobs/${digest}`, headers });
        if (res.status !== 200 && res.status !== 206) return this.fail(res.response!, `blob ${digest} not found in ${this.name}`);
        const length = res.headers.get('content-length');
        return { status: res.status, body: res.body, length: length === null ? undefined : Number(length) };
      },
    });
  }

  async mountBlob(digest: string, fromPath: string): Promise<boolean> {
    const res = await this.transport.request({
      method: 'POST',
      path: `/${this.endpoint.path}/blobs/uploads/`,
      query: { mount: digest, from: fromPath },
      extraScopes: [`repository:${fromPath}:pull`],
    });
    if (res.status === 201) return true;
    if (res.status === 404) return this.pushNotFound(res, `upload endpoint for ${this.path}`, this.transport.where({ method: 'POST', path: `/${this.endpoint.path}/blobs/uploads/` }));
    if (res.status !== 202) return this.fail(res);
    // the registry opened an upload instead of mounting: close it again
    const location = res.headers.get('location');
    if (location) {
      const url = new URL(location, await this.transport.url(`/${this.endpoint.path}/blobs/uploads/`));
      await this.transport.request({ method: 'DELETE', path: url.href });
    }
    return false;
  }

  async pushBlob(blob: { digest: string; size: number }, open: () => Promise<Readable>, opts: PushBlobOptions = {}): Promise<void> {
    await uploadBlob({
      transport: this.transport,
      uploadsPath: `/${this.endpoint.path}/blobs/uploads/`,
      blob,
      open,
      chunkSize: opts.chunkSize,
      onSession: opts.onSession,
      attempts: this.retry.attempts ?? 4,
      baseDelayMs: this.retry.baseDelayMs ?? 100,
      name: this.name,
      fail: (res, step) => {
        if (res.status !== 404) return this.fail(res);
        if (step.session) return this.pushNotFound(res, `upload of blob ${blob.digest} any more`, step.request, PUSH_LOST_HINT);
        return this.pushNotFound(res, `upload endpoint for ${this.path}`, step.request);
      },
    });
  }
}

/** A small body (a manifest) read whole, watched for stalls; undefined (and the body dropped) past `max` bytes. */
async function readSmall(body: Readable, readMs: number, max: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of watched(body, readMs)) {
    size += c.length;
    if (size > max) return undefined; // leaving the loop destroys the body
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}

/** The manifest's media type: the Content-Type, or the document's own mediaType when the header is generic. */
function manifestMediaType(headers: AnswerHeaders, bytes: Buffer): string {
  const header = headers.get('content-type')?.split(';')[0].trim();
  if (header && header !== 'application/json' && header !== 'text/plain' && header !== 'application/octet-stream') return header;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (doc.mediaType) return doc.mediaType;
    return doc.manifests ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return header ?? 'application/octet-stream'; // not JSON: let the caller's parser say so
  }
}
