/**
 * The agent's side of the Build stream, message by message: the order it
 * expects, Need in parts, the whole manifest asked for when a delta's base
 * is unknown (secrets may come after it), hostile first messages. The engine
 * here only records what build() was given: the real builds through a real
 * agent are in ../build.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BuildEvent, BuildOptions, BuildResult } from '../../../builder/types.js';
import type { Engine } from '../../engine.js';
import { isKilnError } from '../../../errors.js';
import { secretValue } from '../../../builder/mounts.js';
import { scanContext } from '../sync/scan.js';
import { keptSlotManifests, manifestCost, openSlot } from '../sync/slot.js';
import { diffManifest, manifestDigest, manifestParts, type ContextManifest } from '../sync/manifest.js';
import { runBuildSession, type BuildDownMsg, type BuildUpMsg } from './build-session.js';
import { EVENT_BATCH_BYTES, EVENT_WINDOW_MS, eventBatches } from './event-batches.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'kiln-bsess-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** An engine whose build() reads back the synced context and the secret, as the builder would. */
function recordingEngine(seen: { files: Record<string, string>; secret?: string; dockerfile?: string }[]): Engine {
  return {
    async build(o: BuildOptions): Promise<BuildResult> {
      const files: Record<string, string> = {};
      for (const n of (await readdir(o.context!)).sort()) files[n] = await readFile(path.join(o.context!, n), 'utf8');
      const s = o.secrets?.[0];
      assert.equal(s?.src, undefined, 'the agent writes no secret to a file');
      assert.equal(o.file, undefined, 'the agent writes no Dockerfile to a file');
      seen.push({ files, ...(s ? { secret: secretValue(s).toString('utf8') } : {}), dockerfile: `${o.dockerfileName}: ${o.dockerfileText}` });
      return { id: 'sha256:' + '0'.repeat(64), manifestDigest: 'sha256:' + '1'.repeat(64), tags: [], steps: 0, cached: 0 };
    },
  } as unknown as Engine;
}

/** Plays the client: answers each Need (full manifest or files) from the scanned context. */
async function session(stateDir: string, engine: Engine, ctx: string, opts: { contextId?: string; base?: ContextManifest; baseDigest?: string; needPart?: number; secret?: string; eventBatches?: boolean; down?: BuildDownMsg[] } = {}) {
  const scanned = await scanContext(ctx);
  const down: BuildDownMsg[] = opts.down ?? [];
  const queue: BuildUpMsg[] = [];
  let wake: (() => void) | undefined;
  const push = (m: BuildUpMsg) => {
    queue.push(m);
    wake?.();
  };
  const contextId = opts.contextId ?? 'c1';
  const start = { contextId, dockerfileText: 'FROM scratch\n', dockerfileName: 'Dockerfile', secretIds: opts.secret ? ['s'] : [], manifestDigest: manifestDigest(scanned.manifest), ...(opts.baseDigest ? { manifestBase: opts.baseDigest } : {}), ...(opts.eventBatches ? { eventBatches: true } : {}), options: {} };
  push({ start_json: JSON.stringify(start) });
  const d = opts.base ? diffManifest(opts.base, scanned.manifest) : { entries: scanned.manifest.entries, remove: [] };
  for (const p of manifestParts(d.entries, d.remove)) push({ manifest_json: JSON.stringify(p) });
  const needed: string[] = [];
  const messages: AsyncIterator<BuildUpMsg> = {
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return { value: queue.shift()!, done: false };
    },
  };
  const send = async (m: BuildDownMsg) => {
    down.push(m);
    if (!('need' in m)) return;
    if (m.need.full_manifest) {
      for (const p of manifestParts(scanned.manifest.entries)) push({ manifest_json: JSON.stringify(p) });
      return;
    }
    needed.push(...m.need.digests);
    if (m.need.more) return;
    if (opts.secret) push({ secret: { id: 's', value: Buffer.from(opts.secret) } });
    for (const dg of needed) push({ file: { digest: dg, data: await readFile(scanned.sources.get(dg)!), last: true } });
    push({ files_done: true });
  };
  try {
    const result = await runBuildSession({ engine, stateDir, needPart: opts.needPart }, { messages, send, signal: new AbortController().signal });
    return { result, down, manifest: scanned.manifest };
  } finally {
    // As the next build of the context does: the slot is free once what the sync wrote is stored (after the result).
    await (await openSlot(path.join(stateDir, 'contexts'), contextId)).release();
  }
}

test('build session: Need in parts; a delta against an unknown base gets the whole manifest asked for; secrets after it', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  for (let i = 0; i < 5; i++) await writeFile(path.join(ctx, `f${i}`), `file ${i}`);
  const seen: { files: Record<string, string>; secret?: string; dockerfile?: string }[] = [];
  const engine = recordingEngine(seen);
  const first = await session(state, engine, ctx, { needPart: 2, secret: 'sekrit' });
  const needs = first.down.filter((m) => 'need' in m).map((m) => (m as { need: { digests: string[]; more?: boolean } }).need);
  assert.deepEqual(needs.map((n) => [n.digests.length, Boolean(n.more)]), [[2, true], [2, true], [1, false]]);
  assert.deepEqual(seen[0]!.files, { f0: 'file 0', f1: 'file 1', f2: 'file 2', f3: 'file 3', f4: 'file 4' });
  assert.equal(seen[0]!.secret, 'sekrit');
  assert.equal(seen[0]!.dockerfile, 'Dockerfile: FROM scratch\n');
  assert.deepEqual(await readdir(state), ['contexts'], 'no scratch folder: the Dockerfile and the secret stay in memory');

  // A delta against the manifest the agent holds: no full manifest asked for, one file sent.
  await writeFile(path.join(ctx, 'f1'), 'changed');
  const second = await session(state, engine, ctx, { base: first.manifest, baseDigest: manifestDigest(first.manifest) });
  assert.ok(!second.down.some((m) => 'need' in m && m.need.full_manifest));
  assert.deepEqual(second.down.filter((m) => 'need' in m).flatMap((m) => (m as { need: { digests: string[] } }).need.digests).length, 1);
  assert.equal(seen[1]!.files.f1, 'changed');

  // A delta against a manifest the agent never saw: it asks for the whole one, then the secret and files follow.
  await writeFile(path.join(ctx, 'f2'), 'changed too');
  const stale = { entries: first.manifest.entries.slice(1) };
  const third = await session(state, engine, ctx, { base: stale, baseDigest: manifestDigest(stale), secret: 'again' });
  assert.ok(third.down.some((m) => 'need' in m && m.need.full_manifest));
  assert.equal(seen[2]!.files.f2, 'changed too');
  assert.equal(seen[2]!.files.f0, 'file 0');
  assert.equal(seen[2]!.secret, 'again');
});

test('build session: a stream that does not start with start, or a start with a bad context id, is refused in one line', async (t) => {
  const state = await tmp(t);
  const engine = recordingEngine([]);
  const run = (msgs: BuildUpMsg[]) => {
    const it = msgs[Symbol.iterator]();
    return runBuildSession({ engine, stateDir: state }, { messages: { next: async () => it.next() }, send: async () => undefined, signal: new AbortController().signal });
  };
  await assert.rejects(run([{ files_done: true }]), (e) => isKilnError(e, 'INVALID_ARGUMENT') && /expected the start message first/.test(e.message));
  const start = (id: string) => ({ start_json: JSON.stringify({ contextId: id, dockerfileText: '', dockerfileName: 'Dockerfile', secretIds: [], manifestDigest: 'sha256:' + 'a'.repeat(64), options: {} }) });
  await assert.rejects(run([start('../../etc')]), /build context id "..\/..\/etc" is not valid/);
  await assert.rejects(run([start('ok'), { manifest_json: JSON.stringify({ entries: [{ path: '../x', type: 'dir', mode: 0o755, mtimeMs: 0 }] }) }]), /manifest refused: entry "..\/x"/);
  await assert.rejects(run([{ start_json: JSON.stringify({ ...JSON.parse(start('ok').start_json), dockerfileName: '../Dockerfile' }) }]), /bad Dockerfile name/);
  // Nothing but the slot of the valid id was made, and the refused manifest wrote nothing into it.
  assert.deepEqual(await readdir(state), ['contexts']);
  assert.deepEqual(await readdir(path.join(state, 'contexts')), ['ok']);
  assert.deepEqual(await readdir(path.join(state, 'contexts', 'ok', 'ctx')), []);
});

test('build session: nothing to receive (no file missing, no secret) builds without waiting for files_done', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'one');
  const seen: { files: Record<string, string>; secret?: string; dockerfile?: string }[] = [];
  const engine = recordingEngine(seen);
  const first = await session(state, engine, ctx);
  const digest = manifestDigest(first.manifest);
  // The client's messages up to the (empty) manifest delta, then nothing more: no files_done ever comes.
  const start = { contextId: 'c1', dockerfileText: 'FROM scratch\n', dockerfileName: 'Dockerfile', secretIds: [], manifestDigest: digest, manifestBase: digest, options: {} };
  const up: BuildUpMsg[] = [{ start_json: JSON.stringify(start) }, ...[...manifestParts([], [])].map((p) => ({ manifest_json: JSON.stringify(p) }))];
  const down: BuildDownMsg[] = [];
  const messages: AsyncIterator<BuildUpMsg> = { next: () => (up.length > 0 ? Promise.resolve({ value: up.shift()!, done: false }) : new Promise(() => undefined)) };
  const result = await runBuildSession({ engine, stateDir: state }, { messages, send: async (m) => void down.push(m), signal: new AbortController().signal });
  assert.equal(result.id, 'sha256:' + '0'.repeat(64));
  assert.deepEqual(down, [{ need: { digests: [], batches: true } }]);
  assert.deepEqual(seen[1]!.files, { f: 'one' });
  // A secret announced: the session waits for it (and files_done) as before.
  const withSecret = [{ start_json: JSON.stringify({ ...start, secretIds: ['s'] }) }, { manifest_json: JSON.stringify([...manifestParts([], [])][0]) }, { secret: { id: 's', value: Buffer.from('v') } }, { files_done: true }];
  const it = withSecret[Symbol.iterator]();
  await runBuildSession({ engine, stateDir: state }, { messages: { next: async () => it.next() as IteratorResult<BuildUpMsg> }, send: async () => undefined, signal: new AbortController().signal });
  assert.equal(seen[2]!.secret, 'v');
});

test('build session: a scratch folder an older agent left when it was killed (its Dockerfile) is removed; a live one is kept', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'one');
  const dead = path.join(state, 'builds', '999999999-abc');
  const live = path.join(state, 'builds', `${process.ppid}-def`);
  for (const d of [dead, live]) {
    await mkdir(d, { recursive: true });
    await writeFile(path.join(d, 'Dockerfile'), 'FROM scratch\n');
  }
  await session(state, recordingEngine([]), ctx);
  assert.deepEqual(await readdir(path.join(state, 'builds')), [path.basename(live)]);
});

test('build session: a client that takes event batches gets arrays (what waited when the window closed, the rest before the result); an older one gets one event per message', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'one');
  const step = (n: number) => ({ n, name: `step ${n}` });
  const events: BuildEvent[] = [1, 2, 3, 4, 5].map((n) => ({ kind: 'cached', step: step(n) }) as BuildEvent);
  // Three events at once, two more after the window has closed, then the result.
  const engine = {
    async build(o: BuildOptions): Promise<BuildResult> {
      for (const e of events.slice(0, 3)) o.progress!.emit(e);
      await new Promise((r) => setTimeout(r, EVENT_WINDOW_MS * 3));
      for (const e of events.slice(3)) o.progress!.emit(e);
      return { id: 'sha256:' + '0'.repeat(64), manifestDigest: 'sha256:' + '1'.repeat(64), tags: [], steps: 0, cached: 5 };
    },
  } as unknown as Engine;
  const eventMessages = (down: BuildDownMsg[]) => down.flatMap((m) => ('event_json' in m ? [JSON.parse(m.event_json) as unknown] : []));
  const batched = await session(state, engine, ctx, { eventBatches: true });
  assert.deepEqual(eventMessages(batched.down), [events.slice(0, 3), events.slice(3)]);
  const older = await session(state, engine, ctx);
  assert.deepEqual(eventMessages(older.down), events, 'one event per message, as older clients read them');
});

test('event batches: a step that prints fast goes in batches of about 1 MiB of JSON at most, without waiting for the window', async () => {
  const sent: string[] = [];
  const sink = eventBatches(async (m) => void sent.push(m.event_json), 60_000);
  const line: BuildEvent = { kind: 'log', step: { n: 1, name: 'RUN yes' }, stream: 'stdout', text: 'y\n'.repeat(32 * 1024), seconds: 0 };
  for (let i = 0; i < 40; i++) sink.emit(line);
  assert.ok(sent.length >= 2, 'sent before the window closed');
  for (const m of sent) assert.ok(m.length < EVENT_BATCH_BYTES + 2 * JSON.stringify(line).length);
  sink.flush();
  assert.equal(sent.flatMap((m) => JSON.parse(m) as BuildEvent[]).length, 40, 'every event, once, in order');
});

test('event batches: a build that fails sends the events it emitted (the failing step\'s output) before its error', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'one');
  const step = { n: 2, name: 'RUN exit 3' };
  const emitted: BuildEvent[] = [
    { kind: 'start', step },
    { kind: 'log', step, stream: 'stdout', text: 'hello-before-fail\n', seconds: 0.01 },
    { kind: 'error', step, seconds: 0.02, message: 'exit code 3' },
  ];
  const engine = {
    async build(o: BuildOptions): Promise<BuildResult> {
      for (const e of emitted) o.progress!.emit(e);
      throw new Error('step [2/2] failed: exit code 3');
    },
  } as unknown as Engine;
  const down: BuildDownMsg[] = [];
  await assert.rejects(session(state, engine, ctx, { eventBatches: true, down }), /exit code 3/);
  assert.deepEqual(
    down.flatMap((m) => ('event_json' in m ? [JSON.parse(m.event_json) as unknown] : [])),
    [emitted],
  );
});

test('build session: the synced manifest is written after the build (its result not kept waiting), before the slot is another build\'s; also after a failed build', async (t) => {
  const [state, ctx] = [await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'one');
  const seen: { files: Record<string, string> }[] = [];
  const first = await session(state, recordingEngine(seen), ctx);
  await writeFile(path.join(ctx, 'f'), 'two');
  const failing = { build: async () => Promise.reject(new Error('step failed')) } as unknown as Engine;
  await assert.rejects(session(state, failing, ctx, { base: first.manifest, baseDigest: manifestDigest(first.manifest) }), /step failed/);
  const stored = JSON.parse(await readFile(path.join(state, 'contexts', 'c1', 'manifest.json'), 'utf8')) as ContextManifest;
  assert.equal(stored.entries.find((e) => e.path === 'f')?.size, 3, 'the manifest of the synced directory');
  // The next build of the context sends a delta against it: nothing asked for whole, nothing sent again.
  const third = await session(state, recordingEngine(seen), ctx, { base: stored, baseDigest: manifestDigest(stored) });
  assert.ok(!third.down.some((m) => 'need' in m && (m.need.full_manifest || m.need.digests.length > 0)));
  assert.equal(seen.at(-1)!.files.f, 'two');
});

test('build session: a context whose kept manifest was dropped (other contexts past the bound) reads it from its file: a delta, the right files', async (t) => {
  const [state, ctx1, ctx2] = [await tmp(t), await tmp(t), await tmp(t)];
  for (let i = 0; i < 3; i++) await writeFile(path.join(ctx1, `f${i}`), `one ${i}`);
  await writeFile(path.join(ctx2, 'g'), 'two');
  const bound = keptSlotManifests.maxCost;
  t.after(() => void (keptSlotManifests.maxCost = bound));
  const seen: { files: Record<string, string> }[] = [];
  const first = await session(state, recordingEngine(seen), ctx1);
  const stored1 = path.join(state, 'contexts', 'c1', 'manifest.json');
  assert.ok(keptSlotManifests.keys().includes(stored1), 'kept after its build');
  // c1's manifest and a bit more: c2's (one entry) fits alone, not beside c1's
  keptSlotManifests.maxCost = manifestCost(JSON.stringify(first.manifest).length) + 1000;
  await session(state, recordingEngine(seen), ctx2, { contextId: 'c2' });
  assert.deepEqual(keptSlotManifests.keys(), [path.join(state, 'contexts', 'c2', 'manifest.json')], 'c1 dropped');
  await writeFile(path.join(ctx1, 'f1'), 'changed');
  const again = await session(state, recordingEngine(seen), ctx1, { base: first.manifest, baseDigest: manifestDigest(first.manifest) });
  assert.ok(!again.down.some((m) => 'need' in m && m.need.full_manifest), 'the base read from the slot file');
  assert.deepEqual(again.down.flatMap((m) => ('need' in m ? m.need.digests : [])).length, 1, 'one file sent');
  assert.deepEqual(seen.at(-1)!.files, { f0: 'one 0', f1: 'changed', f2: 'one 2' });
  assert.deepEqual(JSON.parse(await readFile(stored1, 'utf8')), again.manifest);
});
