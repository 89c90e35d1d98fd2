/**
 * The agent's method table: each Engine API method as a gRPC handler over
 * the engine the agent serves. Unary calls take and return the contract's
 * JSON; pull and push stream progress then the result; save streams the
 * archive down and load/import take it up, chunk by chunk with flow control.
 * A cancelled call (the client went away or pressed Ctrl-C) aborts the
 * engine's work through its AbortSignal, or destroys the stream it reads or
 * writes. Build is in build.ts.
 */
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type * as grpc from '@grpc/grpc-js';
import { withForwardedCredentials } from '../../../registry/credentials.js';
import { cancelled, failedPrecondition, invalidArgument } from '../../../errors.js';
import { kilnVersion } from '../../../version.js';
import type { Engine } from '../../engine.js';
import { chunkBytes, send } from '../chunks.js';
import { AUTH_METADATA, parseForwarded } from '../credentials.js';
import { toStatus } from '../errors.js';
import { CHUNK_SIZE, type ChunkMsg, type JsonMsg } from '../proto.js';
import { buildHandler, type BuildHandlerContext } from './build.js';
import { sharedController } from '../../../util/shared-signal.js';

type Args = Record<string, unknown>;

function args(m: JsonMsg | undefined): Args {
  try {
    const v = m?.json ? (JSON.parse(m.json) as unknown) : {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Args;
  } catch (e) {
    throw invalidArgument(`bad request: ${(e as Error).message}`);
  }
}

const str = (a: Args, k: string): string => {
  const v = a[k];
  if (typeof v !== 'string' || v === '') throw invalidArgument(`bad request: "${k}" must be a non-empty string`);
  return v;
};
const strs = (a: Args, k: string): string[] => {
  const v = a[k];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalidArgument(`bad request: "${k}" must be a list of strings`);
  return v as string[];
};

/** Runs fn with the registry credentials the client forwarded (if any) for its registry calls. */
function asCaller<T>(call: { metadata: grpc.Metadata }, fn: () => Promise<T>): Promise<T> {
  const f = parseForwarded(call.metadata.get(AUTH_METADATA)[0]);
  return f ? withForwardedCredentials(f.host, f.auth, fn) : fn();
}

/** An AbortSignal that fires when the client cancels the call or goes away. */
function callSignal(call: NodeJS.EventEmitter): AbortSignal {
  // A pull or push listens on it once per blob in flight.
  const ac = sharedController();
  call.once('cancelled', () => ac.abort(cancelled('the client cancelled the call')));
  return ac.signal;
}

/** One line per call on the agent's log: the method, its subject, how it ended (never its metadata: credentials travel there). */
export type AgentLog = (line: string) => void;

interface Tracked {
  log: AgentLog;
  method: string;
}

function subjectOf(a: Args): string {
  const v = a.reference ?? a.references ?? a.source ?? '';
  return Array.isArray(v) ? v.join(' ') : String(v);
}

function report(t: Tracked, call: { cancelled?: boolean }, subject: string, started: number, e?: unknown): void {
  const ms = Date.now() - started;
  const what = subject ? `${t.method} ${subject}` : t.method;
  if (call.cancelled) t.log(`${what}: cancelled by the client after ${ms} ms`);
  else if (e === undefined) t.log(`${what}: ok (${ms} ms)`);
  else t.log(`${what}: ${(e as { code?: string }).code ?? 'error'}: ${(e as Error)?.message ?? String(e)} (${ms} ms)`);
}

/**
 * One call's bookkeeping: `begin` reads its arguments, `work` does it, the
 * outcome is logged in one line (a quiet call logs only its failures) and
 * handed to `ok` or `fail`.
 */
function handle<T>(
  t: Tracked,
  call: { cancelled?: boolean },
  begin: () => Args | Promise<Args>,
  work: (a: Args) => Promise<T>,
  ok: (v: T) => void,
  fail: (e: unknown) => void,
  quiet = false,
): void {
  const started = Date.now();
  let subject = '';
  Promise.resolve()
    .then(begin)
    .then((a) => {
      subject = subjectOf(a);
      return work(a);
    })
    .then(
      (v) => {
        if (!quiet) report(t, call, subject, started);
        ok(v);
      },
      (e) => {
        report(t, call, subject, started, e);
        fail(e);
      },
    );
}

function unary(t: Tracked, fn: (a: Args) => Promise<unknown>): grpc.handleUnaryCall<JsonMsg, JsonMsg> {
  return (call, cb) =>
    handle(
      t,
      call,
      () => args(call.request),
      (a) => asCaller(call, () => fn(a)),
      (v) => cb(null, { json: JSON.stringify(v ?? null) }),
      (e) => cb(toStatus(e)),
      t.method === 'Info' || t.method === 'ListImages',
    );
}

function progress(t: Tracked, run: (a: Args, o: { progress: { emit(e: unknown): void }; signal: AbortSignal }) => Promise<unknown>): grpc.handleServerStreamingCall<JsonMsg, unknown> {
  return (call) => {
    const signal = callSignal(call);
    // Progress events are small and few: a full buffer drops none, it only waits in memory for the client.
    const emit = (e: unknown) => void (call.cancelled || call.write({ event_json: JSON.stringify(e) }));
    handle(
      t,
      call,
      () => args(call.request),
      (a) => asCaller(call, () => run(a, { progress: { emit }, signal })),
      (r) => {
        call.write({ result_json: JSON.stringify(r) });
        call.end();
      },
      (e) => {
        if (!call.cancelled) call.emit('error', toStatus(e));
      },
    );
  };
}

/** A Writable whose bytes go down the call as Chunk messages (waits for the client when its window is full). */
function chunkWriter(call: grpc.ServerWritableStream<JsonMsg, unknown>): Writable {
  return new Writable({
    highWaterMark: CHUNK_SIZE,
    write(chunk: Buffer, _enc, cb) {
      (async () => {
        for (let i = 0; i < chunk.length; i += CHUNK_SIZE) {
          if (call.cancelled) throw cancelled('the client cancelled the save');
          await send(call, { data: chunk.subarray(i, i + CHUNK_SIZE) });
        }
      })().then(() => cb(), cb);
    },
  });
}

function save(t: Tracked, engine: Engine): grpc.handleServerStreamingCall<JsonMsg, unknown> {
  return (call) =>
    handle(
      t,
      call,
      () => args(call.request),
      (a) => {
        const format = a.format === 'oci' ? 'oci' : a.format === undefined || a.format === null || a.format === 'docker' ? 'docker' : undefined;
        if (!format) throw invalidArgument(`unknown archive format "${String(a.format)}"`, { hint: 'use docker or oci' });
        const out = chunkWriter(call);
        call.once('cancelled', () => out.destroy(cancelled('the client cancelled the save')));
        // An engine may end the stream itself (a pipeline into it) or leave that to the caller.
        return engine.save(strs(a, 'references'), out, { format }).then(() => {
          if (!out.writableEnded) out.end();
          return finished(out);
        });
      },
      () => call.end(),
      (e) => {
        if (!call.cancelled) call.emit('error', toStatus(e));
      },
    );
}

/** The agent's events as a stream until the client cancels (or `until` / the engine ends it). */
function events(t: Tracked, engine: Engine): grpc.handleServerStreamingCall<JsonMsg, JsonMsg> {
  return (call) => {
    const started = Date.now();
    const signal = callSignal(call);
    Promise.resolve()
      .then(async () => {
        const a = args(call.request);
        const date = (k: string) => {
          if (a[k] === undefined || a[k] === null) return undefined;
          const d = new Date(String(a[k]));
          if (Number.isNaN(d.getTime())) throw invalidArgument(`bad request: "${k}" is not a time`);
          return d;
        };
        const since = date('since');
        const until = date('until');
        const filters = a.filters === undefined ? [] : strs(a, 'filters');
        const query = { ...(since ? { since } : {}), ...(until ? { until } : {}), filters, follow: a.follow === true, signal };
        for await (const e of engine.events(query)) {
          if (call.cancelled) break;
          await send(call, { json: JSON.stringify(e) });
        }
      })
      .then(
        () => {
          if (call.cancelled) return;
          report(t, call, '', started);
          call.end();
        },
        (e) => {
          if (call.cancelled) return;
          report(t, call, '', started, e);
          call.emit('error', toStatus(e));
        },
      );
  };
}

/** Reads a client stream's first message (its options) and returns them with a Readable of all its bytes. */
async function upload(call: grpc.ServerReadableStream<ChunkMsg, JsonMsg>): Promise<{ opts: Args; input: Readable }> {
  const it = call[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? undefined : (first.value as ChunkMsg);
  const opts = args({ json: head?.json || '{}' });
  async function* bytes(): AsyncGenerator<Buffer> {
    if (head?.data?.length) yield head.data;
    yield* chunkBytes({ [Symbol.asyncIterator]: () => it });
  }
  const input = Readable.from(bytes(), { objectMode: false, highWaterMark: CHUNK_SIZE });
  call.once('cancelled', () => input.destroy(cancelled('the client cancelled the upload')));
  return { opts, input };
}

function uploadCall(t: Tracked, fn: (input: Readable, opts: Args) => Promise<unknown>): grpc.handleClientStreamingCall<ChunkMsg, JsonMsg> {
  return (call, cb) => {
    let input: Readable;
    handle(
      t,
      call,
      async () => {
        const u = await upload(call);
        input = u.input;
        return u.opts;
      },
      (opts) => fn(input, opts),
      (v) => cb(null, { json: JSON.stringify(v ?? null) }),
      (e) => cb(toStatus(e)),
    );
  };
}

/** A call the agent's backend does not have: one line naming it (the CLI says the same for a local engine). */
const missing = (what: string) => (): never => {
  throw failedPrecondition(`${what} is not available on the agent's backend`, { hint: 'run the agent with --backend local for it' });
};

export function methodTable(engine: Engine, ctx: Omit<BuildHandlerContext, 'engine' | 'log'>, log: AgentLog = () => undefined): grpc.UntypedServiceImplementation {
  const t = (method: string): Tracked => ({ log, method });
  return {
    Info: unary(t('Info'), async () => ({ ...(await engine.info()), version: kilnVersion() })),
    ListImages: unary(t('ListImages'), (a) => engine.listImages(typeof a.reference === 'string' ? { reference: a.reference } : {})),
    InspectImage: unary(t('InspectImage'), (a) => engine.inspectImage(str(a, 'reference'))),
    History: unary(t('History'), (a) => engine.history(str(a, 'reference'))),
    Tag: unary(t('Tag'), (a) => engine.tag(str(a, 'source'), str(a, 'target'))),
    Pin: unary(t('Pin'), (a) => engine.pin(strs(a, 'references'), a.pinned === true)),
    RemoveImages: unary(t('RemoveImages'), (a) => engine.removeImages(strs(a, 'references'), { force: a.force === true })),
    Prune: unary(t('Prune'), (a) => engine.prune({ all: a.all === true })),
    PruneImages: unary(t('PruneImages'), async (a) => (engine.pruneImages ?? missing('image prune'))({ all: a.all === true })),
    PruneBuildCache: unary(t('PruneBuildCache'), async (a) => (engine.pruneBuildCache ?? missing('builder prune'))({ all: a.all === true })),
    DiskUsage: unary(t('DiskUsage'), async () => (engine.diskUsage ?? missing('system df'))()),
    Check: unary(t('Check'), () => engine.check()),
    Pull: progress(t('Pull'), (a, o) => engine.pull(str(a, 'reference'), { ...o, ...(a.platform ? { platform: a.platform as never } : {}) })),
    Push: progress(t('Push'), (a, o) => engine.push(str(a, 'reference'), { ...o, ...(typeof a.chunkSize === 'number' ? { chunkSize: a.chunkSize } : {}) })),
    Save: save(t('Save'), engine),
    Load: uploadCall(t('Load'), (input) => engine.load(input)),
    Import: uploadCall(t('Import'), (input, o) => engine.importRootfs(input, o as never)),
    Events: events(t('Events'), engine),
    Build: buildHandler({ ...ctx, engine, log }),
  };
}
