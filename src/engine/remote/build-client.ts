/**
 * A build through the agent, the client's side of the Build stream: start
 * (options, Dockerfile, secret ids, context id), the manifest in parts (only
 * the changes since the last build synced, when there was one; whole again if
 * the agent asks); then, once the agent answers which digests it lacks, the
 * secrets and those files (upload-files.ts: small files batched when the
 * agent takes batches, larger ones streamed in chunks) and `files_done`; then the agent's build events (renumbered after this
 * side's own `[internal] load build context` step) and the result, with
 * what was uploaded counted. Aborting `opts.signal` cancels the call, which
 * cancels the build on the agent.
 */
import type * as grpc from '@grpc/grpc-js';
import { noBuildProgress, type BuildEvent, type BuildOptions, type BuildResult } from '../../builder/types.js';
import { internal, type KilnError } from '../../errors.js';
import type { BuildStart } from './build-start.js';
import { diffManifest, manifestParts, type ContextManifest, type ManifestEntry } from './sync/manifest.js';
import type { ScannedContext } from './sync/scan.js';
import { uploadFiles } from './upload-files.js';

export interface BuildCall {
  host: string;
  /** Opens the Build stream. */
  open(): grpc.ClientDuplexStream<unknown, unknown>;
  /** A failed call → the user's one line. */
  failure(e: grpc.ServiceError, what: string): KilnError;
  /** Bytes per file chunk. */
  chunkSize: number;
}

interface DownMsg {
  need?: { digests?: string[]; full_manifest?: boolean; more?: boolean; batches?: boolean };
  event_json?: string;
  result_json?: string;
}

async function write(call: grpc.ClientDuplexStream<unknown, unknown>, msg: unknown): Promise<void> {
  if (call.write(msg)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => {
      call.off('drain', done);
      call.off('close', closed);
      if (e) reject(e);
      else resolve();
    };
    const closed = () => done(new Error('the build stream closed'));
    call.once('drain', () => done());
    call.once('close', closed);
  });
}

/** Step numbers of the agent's events, after the client's own step #1. */
function renumber(e: BuildEvent): BuildEvent {
  return 'step' in e ? { ...e, step: { ...e.step, n: e.step.n + 1 } } : e;
}

const human = (n: number): string => (n < 1000 ? `${n}B` : n < 1e6 ? `${(n / 1e3).toFixed(2)}kB` : `${(n / 1e6).toFixed(2)}MB`);

/** What a build sends: the start message, the scanned context and the secrets' values (read on this side). */
export interface BuildRequest {
  start: BuildStart;
  scanned: ScannedContext;
  secrets: { id: string; value: Buffer }[];
  /** The manifest `start.manifestBase` names, when it is not this one: the manifest goes as changes against it. */
  base?: ContextManifest;
  /** Called once every file the agent asked for is sent (to remember the manifest as synced). */
  onSynced?(): Promise<void>;
}

/** Runs the build; `prepare` (the context scan) runs inside the client's `load build context` step. */
export async function runRemoteBuild(conn: BuildCall, opts: BuildOptions, prepare: () => Promise<BuildRequest>): Promise<BuildResult> {
  const progress = opts.progress ?? noBuildProgress;
  const step = { n: 1, name: '[internal] load build context' };
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  progress.emit({ kind: 'start', step });
  // The stream is opened before the scan: the call is set up, and its headers reach the agent, while the
  // context is walked (the agent's side waits for the start message).
  const call = conn.open();
  // A failure while the context is walked (Ctrl-C, an agent that is not there) is kept for the result below,
  // whose listeners come after it was emitted.
  let early: grpc.ServiceError | undefined;
  call.on('error', (e: grpc.ServiceError) => void (early ??= e));
  const onAbort = () => call.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let req: BuildRequest;
  try {
    req = await prepare();
    opts.signal?.throwIfAborted();
  } catch (e) {
    opts.signal?.removeEventListener('abort', onAbort);
    call.cancel();
    progress.emit({ kind: 'error', step, seconds: seconds(), message: (e as Error).message });
    throw e;
  }
  const { start, scanned } = req;
  const upload = { files: 0, bytes: 0, manifestBytes: 0 };
  let uploading: Promise<void> | undefined;
  let failed: unknown;
  const fail = (e: unknown) => {
    failed ??= e;
    call.cancel();
  };

  const sendManifest = async (entries: ManifestEntry[], remove: string[]) => {
    for (const part of manifestParts(entries, remove)) {
      const json = JSON.stringify(part);
      upload.manifestBytes += json.length;
      await write(call, { manifest_json: json });
    }
  };

  const needed: string[] = [];
  const sendFiles = async (digests: string[], batches: boolean) => {
    for (const s of req.secrets) await write(call, { secret: s });
    if (digests.length > 0) {
      // Where each file's bytes are and their sizes: looked up only when the agent asks for files.
      const sizes = new Map(scanned.manifest.entries.flatMap((e) => (e.digest ? [[e.digest, e.size ?? 0] as const] : [])));
      const sent = await uploadFiles((m) => write(call, m), { sources: scanned.sources, sizes }, digests, { chunkSize: conn.chunkSize, batches });
      upload.files += sent.files;
      upload.bytes += sent.bytes;
    }
    await write(call, { files_done: true });
    call.end();
    progress.emit({ kind: 'log', step, stream: 'stdout', text: `transferring context: ${human(upload.bytes)} in ${upload.files} file(s), ${scanned.entryCount} entries\n`, seconds: seconds() });
    progress.emit({ kind: 'done', step, seconds: seconds() });
    // The agent's steps, held while this one was open (an agent with nothing to receive builds at once).
    for (const e of held.splice(0)) progress.emit(e);
    synced = true;
    await req.onSynced?.();
  };
  /** The agent's events that arrive before this side's step is done: shown after it, in order. */
  const held: BuildEvent[] = [];
  let synced = false;

  const result = new Promise<BuildResult>((resolve, reject) => {
    let got: BuildResult | undefined;
    call.on('data', (m: DownMsg) => {
      if (m.need?.full_manifest) {
        uploading = sendManifest(scanned.manifest.entries, []).catch(fail);
      } else if (m.need) {
        needed.push(...(m.need.digests ?? []));
        if (!m.need.more) uploading = sendFiles(needed, Boolean(m.need.batches)).catch(fail);
      } else if (m.event_json !== undefined) {
        // One event, or (an agent that takes the start's eventBatches) an array of them.
        const got = JSON.parse(m.event_json) as BuildEvent | BuildEvent[];
        for (const raw of Array.isArray(got) ? got : [got]) {
          const e = renumber(raw);
          if (synced) progress.emit(e);
          else held.push(e);
        }
      }
      else if (m.result_json !== undefined) got = JSON.parse(m.result_json) as BuildResult;
    });
    call.on('error', (e: grpc.ServiceError) => {
      if (opts.signal?.aborted) reject(opts.signal.reason);
      else if (failed) reject(failed);
      else reject(conn.failure(e, 'the build'));
    });
    call.on('end', () => {
      if (got) resolve({ ...got, contextUpload: upload });
      else if (failed) reject(failed);
      else if (early) reject(opts.signal?.aborted ? opts.signal.reason : conn.failure(early, 'the build'));
      else reject(internal(`the kiln agent at ${conn.host} ended the build without a result`));
    });
  });
  result.catch(() => undefined);

  try {
    const head = JSON.stringify(start);
    upload.manifestBytes += head.length;
    await write(call, { start_json: head });
    if (start.manifestBase !== undefined && start.manifestBase === start.manifestDigest) await sendManifest([], []); // the context did not change since the last sync
    else if (req.base) {
      const delta = diffManifest(req.base, scanned.manifest);
      await sendManifest(delta.entries, delta.remove);
    } else await sendManifest(scanned.manifest.entries, []);
  } catch (e) {
    fail(e);
  }
  try {
    return await result;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await uploading;
  }
}
