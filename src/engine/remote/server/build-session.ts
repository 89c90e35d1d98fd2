/**
 * One remote build on the agent, transport aside: reads the start message,
 * locks the client's context slot, reads the manifest (whole, or changes
 * against the slot's last one) and syncs the slot (answering
 * the digests it lacks, taking the files and secrets), then runs the
 * engine's build on the synced directory with the Dockerfile's text and the
 * secrets in memory, forwarding the build's events. The slot is released
 * whatever happens; scratch folders an older agent left when it was killed are
 * removed by this process's first build.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cancelled, invalidArgument } from '../../../errors.js';
import type { BuildResult, SecretSpec } from '../../../builder/types.js';
import type { Engine } from '../../engine.js';
import { parseBuildStart, type BuildStart } from '../build-start.js';
import { defaultLimits, validateManifest, type ManifestLimits } from '../sync/validate.js';
import { clearSlotManifest, loadSlotManifest, openSlot, saveSlotManifest, type ContextSlot } from '../sync/slot.js';
import { ContextApplier } from '../sync/apply.js';
import { eventBatches, singleEvents } from './event-batches.js';
import { applyDelta, diffManifest, manifestDigest, type ContextManifest, type ManifestDelta, type ManifestEntry, type ManifestPart } from '../sync/manifest.js';

/** A BuildUp message as the service gives it (keepCase, oneofs). */
export interface BuildUpMsg {
  start_json?: string;
  manifest_json?: string;
  file?: { digest?: string; data?: Buffer; last?: boolean };
  secret?: { id?: string; value?: Buffer };
  files_done?: boolean;
  file_batch?: { files?: { digest?: string; data?: Buffer; last?: boolean }[] };
}

/** Digests per Need message (71 bytes each: well under the 4 MiB message limit). */
const NEED_PART = 20_000;

export type BuildDownMsg = { need: { digests: string[]; full_manifest?: boolean; more?: boolean; batches?: boolean } } | { event_json: string } | { result_json: string };

export interface BuildSessionIo {
  messages: AsyncIterator<BuildUpMsg>;
  /** Sends a message, waiting while the client's window is full. */
  send(m: BuildDownMsg): Promise<void>;
  /** Fires when the client cancels (Ctrl-C) or goes away. */
  signal: AbortSignal;
}

export interface BuildSessionContext {
  engine: Engine;
  /** `<root>/agent`: the synced contexts live in contexts/ (builds/: older agents' scratch folders). */
  stateDir: string;
  limits?: ManifestLimits;
  /** Digests per Need message (default 20,000). */
  needPart?: number;
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** State dirs whose builds/ this process has swept (once each: no build of this kiln makes a scratch folder). */
const swept = new Set<string>();

/**
 * Scratch folders (a Dockerfile, secrets) that older agents left when they were killed mid-build, removed at the
 * first build of this process; an older agent still running keeps its own.
 */
function removeStaleScratch(dir: string): void {
  if (swept.has(dir)) return;
  swept.add(dir);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Reads manifest parts up to the last one: entries (and, for a delta, removed paths). */
async function readParts(next: () => Promise<BuildUpMsg | undefined>, limits: ManifestLimits): Promise<{ entries: ManifestEntry[]; remove: string[] }> {
  const entries: ManifestEntry[] = [];
  const remove: string[] = [];
  for (;;) {
    const m = await next();
    if (m?.manifest_json === undefined) throw invalidArgument('remote build: expected the context manifest');
    let part: ManifestPart;
    try {
      part = JSON.parse(m.manifest_json) as ManifestPart;
    } catch {
      throw invalidArgument('build context manifest refused: not JSON');
    }
    if (!Array.isArray(part?.entries)) throw invalidArgument('build context manifest refused: no entries list');
    const rm = part.remove ?? [];
    if (!Array.isArray(rm) || !rm.every((p) => typeof p === 'string')) throw invalidArgument('build context manifest refused: bad list of removed paths');
    if (entries.length + remove.length + part.entries.length + rm.length > limits.maxEntries) {
      throw invalidArgument(`build context manifest refused: more than the ${limits.maxEntries} entries allowed`);
    }
    entries.push(...part.entries);
    remove.push(...rm);
    if (!part.more) return { entries, remove };
  }
}

/**
 * The manifest of this build: sent whole, or as changes against the one the
 * slot was last synced to (when the slot holds that one and the result has
 * the digest the client announced; otherwise the agent asks for it whole).
 * With a stored base, also what differs from it (computed here from the
 * validated result, so only paths the base held are ever removed): the slot's
 * directory is in the base's state, so only those paths need touching.
 */
async function readManifest(
  io: BuildSessionIo,
  next: () => Promise<BuildUpMsg | undefined>,
  start: BuildStart,
  slot: ContextSlot,
  limits: ManifestLimits,
): Promise<{ manifest: ContextManifest; delta?: ManifestDelta; digest: string }> {
  const parts = await readParts(next, limits);
  const stored = await loadSlotManifest(slot);
  const withDelta = (manifest: ContextManifest, digest = manifestDigest(manifest)) => ({ manifest, ...(stored ? { delta: diffManifest(stored.manifest, manifest) } : {}), digest });
  if (start.manifestBase === undefined) return withDelta(validateManifest({ entries: parts.entries }, limits));
  // Nothing changed since the stored one (validated when it was synced): no delta to apply, check or diff.
  const empty = parts.entries.length === 0 && (parts.remove?.length ?? 0) === 0;
  if (empty && stored?.digest === start.manifestBase && start.manifestDigest === stored.digest) return { manifest: stored.manifest, delta: { entries: [], remove: [] }, digest: stored.digest };
  if (stored?.digest === start.manifestBase) {
    const m = applyDelta(stored.manifest, parts.entries, parts.remove);
    const digest = manifestDigest(m);
    if (digest === start.manifestDigest) return withDelta(validateManifest(m, limits), digest);
  }
  await io.send({ need: { digests: [], full_manifest: true } });
  return withDelta(validateManifest({ entries: (await readParts(next, limits)).entries }, limits));
}

export async function runBuildSession(ctx: BuildSessionContext, io: BuildSessionIo): Promise<BuildResult> {
  const { signal } = io;
  const next = async (): Promise<BuildUpMsg | undefined> => {
    const r = await io.messages.next();
    signal.throwIfAborted();
    return r.done ? undefined : r.value;
  };
  const first = await next();
  if (first?.start_json === undefined) throw invalidArgument('remote build: expected the start message first');
  const start = parseBuildStart(first.start_json);
  const limits = ctx.limits ?? defaultLimits;
  removeStaleScratch(path.join(ctx.stateDir, 'builds'));
  const slot = await openSlot(path.join(ctx.stateDir, 'contexts'), start.contextId);
  let persist: (() => Promise<void>) | undefined;
  try {
    const { manifest, delta, digest } = await readManifest(io, next, start, slot, limits);
    // From here the directory may be between two states until finish(): no stored manifest vouches for it
    // (unless nothing changes: then the stored one stays as it is).
    const unchanged = delta !== undefined && delta.entries.length === 0 && delta.remove.length === 0;
    if (!unchanged) await clearSlotManifest(slot);
    // The stat memo in the engine's root (the agent's state is `<root>/agent`): the builder's own, so the files
    // the sync verified are not read again to hash COPY sources.
    // Nothing changed: the directory already holds the manifest, so there is nothing to plan, receive or finish.
    const applier = unchanged ? undefined : new ContextApplier(slot, manifest, path.dirname(ctx.stateDir), delta);
    const need = applier ? await applier.plan() : [];
    const n = ctx.needPart ?? NEED_PART;
    for (let i = 0; i === 0 || i < need.length; i += n) {
      await io.send({ need: { digests: need.slice(i, i + n), batches: true, ...(i + n < need.length ? { more: true } : {}) } });
    }
    const secrets: SecretSpec[] = [];
    // Nothing to receive (no file missing, no secret announced): the build starts now, without waiting a round
    // trip for the client's files_done (which it still sends, and which nobody needs to read).
    const waitForFiles = need.length > 0 || start.secretIds.length > 0;
    while (waitForFiles) {
      const m = await next();
      if (!m) throw cancelled('remote build: the client stopped before sending the whole context');
      if ((m.file || m.file_batch) && !applier) throw invalidArgument('remote build: a file the agent did not ask for');
      if (m.file) await applier!.receive(m.file.digest ?? '', m.file.data ?? Buffer.alloc(0), Boolean(m.file.last));
      else if (m.file_batch) await applier!.receiveBatch(m.file_batch.files ?? []);
      else if (m.secret) secrets.push(takeSecret(m.secret, start.secretIds));
      else if (m.files_done) break;
      else throw invalidArgument('remote build: unexpected message while the context is sent');
    }
    await applier?.finish({ memoLater: true });
    // What the directory now holds: written once the build is over (the build only reads the directory, and shares
    // the stat memo in this process), after its result is handed back; both are caches, so a failed write costs a
    // full check or a re-hash next time.
    if (!unchanged) persist = async () => void (await Promise.all([applier?.saveMemo(), saveSlotManifest(slot, manifest, digest)]));
    const events = start.eventBatches ? eventBatches(io.send) : singleEvents(io.send);
    // The Dockerfile's text under its own name (messages say `Dockerfile:3`); contextDigest: the directory was
    // just brought to the manifest (and stays so while the slot is held), and the build sees all of it (the
    // client applied .dockerignore: the synced directory holds only what it kept).
    const { dockerfileText, dockerfileName } = start;
    try {
      return await ctx.engine.build({ ...start.options, context: slot.dir, dockerfileText, dockerfileName, secrets, progress: events, signal, contextDigest: digest });
    } finally {
      events.flush(); // the last events go before the result (or the error) that follows
    }
  } finally {
    // The slot is another build's only once they are written (its lock waits meanwhile): nobody waits for them.
    if (persist) void persist().catch(() => undefined).then(slot.release).catch(() => undefined);
    else await slot.release();
  }
}

/**
 * A secret's value, kept in memory for the builder's secret mounts (which unlink their copy once the
 * step has it): no file of the agent holds it, so a killed agent leaves none behind.
 */
function takeSecret(s: { id?: string; value?: Buffer }, ids: string[]): SecretSpec {
  if (!s.id || !ids.includes(s.id)) throw invalidArgument('remote build: a secret the start message did not announce');
  const value = Buffer.from(s.value ?? Buffer.alloc(0));
  s.value?.fill(0);
  return { id: s.id, value };
}
