/**
 * The client's side of the Build stream against a scripted agent: the start asks for event batches,
 * and the client shows the agent's events in order whether they come one per message (an older
 * agent) or as arrays (one that takes the start's eventBatches), after its own context step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { BuildEvent } from '../../builder/types.js';
import { internal } from '../../errors.js';
import { runRemoteBuild, type BuildRequest } from './build-client.js';
import type { BuildStart } from './build-start.js';
import { manifestDigest } from './sync/manifest.js';

/** A Build call whose agent answers the manifest with an empty Need, then sends `down` and a result. */
function scriptedCall(down: { event_json?: string }[], sent: unknown[]) {
  const call = new EventEmitter() as EventEmitter & { write(m: unknown): boolean; end(): void; cancel(): void };
  call.write = (m) => {
    sent.push(m);
    if ((m as { manifest_json?: string }).manifest_json !== undefined) {
      setImmediate(() => {
        call.emit('data', { need: { digests: [] } });
        for (const d of down) call.emit('data', d);
        call.emit('data', { result_json: JSON.stringify({ id: 'sha256:' + 'b'.repeat(64), tags: [], steps: 0, cached: 3 }) });
        call.emit('end');
      });
    }
    return true;
  };
  call.end = () => undefined;
  call.cancel = () => undefined;
  return call as unknown as grpc.ClientDuplexStream<unknown, unknown>;
}

const request = (): BuildRequest => {
  const manifest = { entries: [] };
  const start: BuildStart = { contextId: 'c1', dockerfileText: 'FROM scratch\n', dockerfileName: 'Dockerfile', secretIds: [], manifestDigest: manifestDigest(manifest), eventBatches: true, options: {} };
  return { start, scanned: { manifest, digest: start.manifestDigest, entryCount: 0, sources: new Map(), fingerprint: '' }, secrets: [] };
};

test('build client: the agent events one per message (an older agent) or in arrays show the same, in order, after the context step', async () => {
  const cached = (n: number): BuildEvent => ({ kind: 'cached', step: { n, name: `step ${n}` } });
  const forms = {
    single: [cached(1), cached(2), cached(3)].map((e) => ({ event_json: JSON.stringify(e) })),
    batched: [{ event_json: JSON.stringify([cached(1), cached(2)]) }, { event_json: JSON.stringify([cached(3)]) }],
  };
  for (const [form, down] of Object.entries(forms)) {
    const shown: BuildEvent[] = [];
    const sent: unknown[] = [];
    const conn = { host: 'tcp://agent:2376', open: () => scriptedCall(down, sent), failure: () => internal('unexpected'), chunkSize: 1 << 20 };
    const result = await runRemoteBuild(conn, { progress: { emit: (e) => void shown.push(e) } }, async () => request());
    assert.equal(result.id, 'sha256:' + 'b'.repeat(64), form);
    assert.equal(JSON.parse((sent[0] as { start_json: string }).start_json).eventBatches, true, 'the start asks for batches');
    // The client's own step (#1: start, log, done), then the agent's steps renumbered after it.
    assert.deepEqual(
      shown.map((e) => `${e.kind} ${'step' in e ? e.step.n : ''}`),
      ['start 1', 'log 1', 'done 1', 'cached 2', 'cached 3', 'cached 4'],
      form,
    );
  }
});
