/**
 * Layer compression codecs (gzip via zlib, zstd via the `zstd` binary, none)
 * and decompression that sniffs the magic bytes. compressLayer computes the
 * uncompressed diffID and the compressed digest in the same single pass.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, Gzip, type ZlibOptions } from 'node:zlib';
import { failedPrecondition, invalidArgument, dataLoss, isErrno } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import { createDigester } from '../oci/digest.js';
import { releaseChunk } from '../util/chunk-pool.js';

export type Codec = 'gzip' | 'zstd' | 'none';

export interface CompressOptions {
  /** gzip 1–9 (default 6, as Docker), zstd 1–19 (default 3). */
  level?: number;
  /** Use Docker schema2 media types (gzip only) instead of OCI ones. */
  docker?: boolean;
}

export interface CompressResult {
  /** sha256 of the uncompressed tar: the image config's rootfs.diff_ids entry. */
  diffId: string;
  /** sha256 of the compressed bytes: the manifest's layer digest. */
  digest: string;
  /** Compressed size in bytes. */
  size: number;
  uncompressedSize: number;
  mediaType: string;
}

export function parseCodec(s: string): Codec {
  if (s === 'gzip' || s === 'zstd' || s === 'none') return s;
  if (s === 'uncompressed') return 'none';
  throw invalidArgument(`unknown compression "${s}"`, { hint: 'use gzip, zstd or none' });
}

/** The layer media type for a codec (OCI by default; Docker's for gzip with `docker`). */
export function layerMediaType(codec: Codec, docker = false): string {
  if (codec === 'gzip') return docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip;
  if (codec === 'zstd') return MediaType.OciLayerZstd;
  return MediaType.OciLayer;
}

/** The codec a layer media type says, or undefined when it does not say (then sniff). */
export function codecOfMediaType(mt: string): Codec | undefined {
  if (/(\+|\.)gzip$/.test(mt)) return 'gzip';
  if (/\+zstd$/.test(mt)) return 'zstd';
  if (/\.tar$/.test(mt)) return 'none';
  return undefined;
}

/**
 * A Duplex around `zstd` (stdin → stdout). A non-zero exit fails the stream
 * with zstd's message; the output ends only after zstd exited cleanly.
 */
export function zstdStream(args: string[]): Duplex {
  const child = spawn('zstd', ['-q', '-c', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.on('error', (e) => {
    const err = isErrno(e, 'ENOENT')
      ? failedPrecondition('zstd is not installed', { hint: 'install the Debian package "zstd" (apt-get install -y zstd)', cause: e })
      : e;
    duplex.destroy(err);
  });
  child.stdin.on('error', (e) => {
    if (!isErrno(e, 'EPIPE')) duplex.destroy(e); // EPIPE: zstd exited; its exit status says why
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!duplex.destroyed) {
      const what = args.includes('-d') ? 'zstd decompression' : 'zstd compression';
      duplex.destroy(dataLoss(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`, { hint: 'the layer data is corrupt or truncated' }));
    }
  });
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return duplex;
}

/**
 * gzip that gives each input chunk back to its pool (util/chunk-pool.ts) once zlib has taken all of it (its
 * transform's callback): a stored layer read through the layout store's pooled reader (content/pooled-reader.ts),
 * as a push's gzip form is, goes through a few read buffers instead of a fresh MiB for each MiB. Measured on a
 * 96 MiB layer in a fresh process, paired with the fresh buffers: peak RSS 85.8 vs 94.0 MiB, CPU 0.99x (the noise).
 */
let PoolReturningGzip: (new (o: ZlibOptions) => Duplex) | undefined;

/** The class made at first use: node:zlib is not loaded while the startup snapshot is built (scripts/sea-loader.cjs). */
function poolReturningGzip(o: ZlibOptions): Duplex {
  PoolReturningGzip ??= class extends Gzip {
    override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
      super._transform(chunk, encoding, (err?: Error | null, data?: unknown) => {
        releaseChunk(chunk);
        cb(err, data);
      });
    }
  };
  return new PoolReturningGzip(o);
}

function compressor(codec: Codec, level?: number): Duplex | undefined {
  if (codec === 'gzip') return poolReturningGzip({ level: level ?? 6 });
  if (codec === 'zstd') return zstdStream([`-${level ?? 3}`, '-T1']);
  return undefined;
}

/**
 * Compresses a layer tar stream. Read the compressed bytes from `stream`;
 * `result` resolves once they have all been read (and rejects on error).
 */
export function compressLayer(tar: Readable, codec: Codec, opts: CompressOptions = {}): { stream: Readable; result: Promise<CompressResult> } {
  const raw = createDigester();
  const packed = createDigester();
  const comp = compressor(codec, opts.level);
  const done = comp ? pipeline(tar, raw, comp, packed) : pipeline(tar, raw, packed);
  const result = Promise.all([done, raw.result, packed.result]).then(([, r, p]) => ({
    diffId: r.digest,
    digest: p.digest,
    size: p.size,
    uncompressedSize: r.size,
    mediaType: layerMediaType(codec, opts.docker),
  }));
  // The same failure reaches readers of `stream`; a caller that only reads the
  // stream must not crash the process with an unhandled rejection.
  result.catch(() => undefined);
  return { stream: packed, result };
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The codec of the first bytes of a blob: gzip and zstd by magic, anything else is a plain tar. */
export function sniffCodec(head: Buffer): Codec {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/**
 * Reads up to `n` bytes from the start of `stream` (to sniff a format) and
 * answers them with a stream of all the bytes: the same stream with the head
 * put back, or, when the source ended within `n` bytes, a stream of the head.
 */
export async function peekHead(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  let ended = false;
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const c = stream.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      len += c.length;
      continue;
    }
    if (stream.readableEnded) {
      ended = true;
      break;
    }
    ended = await new Promise<boolean>((resolve, reject) => {
      const cleanup = (): void => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
      };
      const onReadable = (): void => (cleanup(), resolve(false));
      const onEnd = (): void => (cleanup(), resolve(true));
      const onError = (e: Error): void => (cleanup(), reject(e));
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
    if (ended) break;
  }
  const head = Buffer.concat(chunks);
  if (ended) return { head, stream: Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) };
  if (head.length > 0) stream.unshift(head);
  return { head, stream };
}

/**
 * The uncompressed tar of a layer blob. The codec is sniffed from the bytes
 * (gzip, zstd, else none); `mediaType`, when given, must not contradict them.
 */
export async function decompress(source: Readable, mediaType?: string): Promise<Readable> {
  const { head, stream } = await peekHead(source, 4);
  const codec = sniffCodec(head);
  const claimed = mediaType === undefined ? undefined : codecOfMediaType(mediaType);
  if (claimed !== undefined && claimed !== 'none' && claimed !== codec) {
    stream.destroy();
    throw dataLoss(`layer claims ${mediaType} but its bytes are ${codec === 'none' ? 'not compressed' : codec}`, {
      hint: 'the blob does not match its descriptor; the registry or image is corrupt',
    });
  }
  if (codec === 'none') return stream;
  const d = codec === 'gzip' ? createGunzip() : zstdStream(['-d']);
  const out = new PassThrough();
  pipeline(stream, d, out).catch((e: unknown) => out.destroy(e as Error));
  return out;
}
