/**
 * `kiln build`: Dockerfile + context → image. Reads the context (a directory,
 * or a tar on stdin unpacked to a temp dir), plans the stages, runs them in
 * dependency order, writes the config and manifest, tags every name and
 * writes the outputs asked for (store, local dir, OCI or Docker archive).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { invalidArgument, isErrno, notFound } from '../errors.js';
import { IgnoreMatcher, loadIgnore, planBuild, type BuildPlan } from '../dockerfile/index.js';
import { checkDockerfile, warningLine } from '../dockerfile/checks.js';
import { extractLayer } from '../layer/extract.js';
import { decompress } from '../layer/compress.js';
import { MediaType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import type { Manifest } from '../oci/types.js';
import { BuildSession, type BuilderDeps } from './session.js';
import { runStages } from './schedule.js';
import { writeOutputs } from './outputs.js';
import { RemoteCacheSource } from './remote-cache.js';
import { importLocations, inlineCache, writeCache } from './cache-export.js';
import { INLINE_CACHE_FIELD } from './cache-inline.js';
import type { BuildOptions, BuildResult } from './types.js';
import { clampCreated, dockerfileEpoch, EPOCH_ARG, requestedEpoch } from './epoch.js';
import { ensureEmulation } from './emulation.js';
import { squashState } from './squash.js';
import { storedImage } from './output-estargz.js';
import type { CacheParts } from './cache-platforms.js';

export type { BuilderDeps } from './session.js';

export interface Context {
  dir: string;
  dockerfile: string;
  dockerfilePath?: string;
  temporary: boolean;
}

/** The context directory and the Dockerfile's text (a tar is unpacked to a temporary dir: `temporary`). */
export async function openContext(opts: BuildOptions): Promise<Context> {
  let dir: string;
  let temporary = false;
  if (opts.contextTar) {
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-context-'));
    temporary = true;
    try {
      await extractLayer(await decompress(opts.contextTar), dir, { sameOwner: false, xattrs: false, whiteouts: 'none' }); // a plain tar: .wh. names are files
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  } else if (!opts.context && opts.dockerfileText !== undefined) {
    // `kiln build - < Dockerfile`: no context at all.
    dir = await mkdtemp(path.join(tmpdir(), 'kiln-context-'));
    temporary = true;
  } else {
    if (!opts.context) throw invalidArgument('no build context given', { hint: 'kiln build [OPTIONS] PATH | -' });
    dir = path.resolve(opts.context);
  }
  try {
    if (opts.dockerfileText !== undefined) return { dir, dockerfile: opts.dockerfileText, temporary };
    const file = opts.file === undefined ? path.join(dir, 'Dockerfile') : opts.contextTar ? path.resolve(dir, opts.file) : path.resolve(opts.file);
    try {
      return { dir, dockerfile: await readFile(file, 'utf8'), dockerfilePath: file, temporary };
    } catch (e) {
      // A context from a tar lives in a temporary directory: the path is the one given, in the context.
      const missing = opts.contextTar ? `the build context has no ${path.relative(dir, file)}` : `Dockerfile ${file} not found`;
      if (isErrno(e, 'ENOENT')) throw notFound(missing, { hint: opts.file === undefined ? 'pass -f FILE, or put a Dockerfile in the context' : `check the path given to -f: it is relative to ${opts.contextTar ? 'the context' : 'the current directory'}` });
      if (isErrno(e, 'ENOTDIR') || isErrno(e, 'EISDIR')) throw notFound(`context ${dir} is not a directory with a Dockerfile`);
      throw e;
    }
  } catch (e) {
    if (temporary) await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A config or manifest blob under its digest: one the store already has (a cached rebuild) is not written again (writeBytes looks first). */
const writeBlob = (deps: BuilderDeps, text: string, digest = sha256Digest(text)): Promise<{ digest: string; size: number }> => deps.content.writeBytes(text, { digest });

/**
 * `# syntax=` is accepted and named in a warning (kiln has one frontend, its own); BuildKit's build
 * checks are warnings, or the build's error with `# check=error=true`.
 */
function lintWarnings(text: string, plan: BuildPlan, opts: BuildOptions): void {
  const warn = (message: string) => opts.progress?.emit({ kind: 'warning', message });
  if (plan.directives.syntax) warn(`# syntax=${plan.directives.syntax} is ignored: kiln builds with its own Dockerfile frontend`);
  const checks = checkDockerfile(text, plan.file);
  for (const w of checks.warnings) warn(warningLine(w));
  if (checks.error && checks.warnings.length > 0) {
    throw invalidArgument(`lint violation found for rules: ${[...new Set(checks.warnings.map((w) => w.rule))].join(', ')}`, { hint: 'fix the Dockerfile, or drop error=true from its # check= directive' });
  }
}

/** `cacheParts`: one platform of several with a `--cache-to` hands its chains and records there (./cache-platforms.ts). */
export async function buildImage(deps: BuilderDeps, request: BuildOptions, cacheParts?: CacheParts): Promise<BuildResult> {
  // SOURCE_DATE_EPOCH: the build arg wins over the CLI's environment; either is seen by `ARG SOURCE_DATE_EPOCH`.
  let epoch = requestedEpoch(request.buildArgs, request.sourceDateEpoch);
  const buildArgs = { ...(request.buildArgs ?? {}), ...(epoch !== undefined ? { [EPOCH_ARG]: String(epoch) } : {}) };
  const opts: BuildOptions = { ...request, buildArgs, sourceDateEpoch: epoch };
  const tags = (opts.tags ?? []).map((t) => formatReference(parseNormalizedNamed(t)));
  const ctx = await openContext(opts);
  let session: BuildSession | undefined;
  try {
    const target = opts.platforms?.[0];
    const plan = planBuild(ctx.dockerfile, { filename: opts.dockerfileName ?? (ctx.dockerfilePath ? path.basename(ctx.dockerfilePath) : 'Dockerfile'), buildArgs: opts.buildArgs, target: opts.target, ...(target ? { platform: target } : {}) });
    await ensureEmulation(plan, target);
    lintWarnings(ctx.dockerfile, plan, opts);
    epoch ??= dockerfileEpoch(plan);
    opts.sourceDateEpoch = epoch;
    for (const w of plan.unusedBuildArgs) opts.progress?.emit({ kind: 'warning', message: `build argument ${w} was given but no ARG uses it` });
    // A context with a digest is seen whole (a kiln agent's synced copy: the client applied .dockerignore).
    const { matcher } = opts.contextDigest !== undefined ? { matcher: new IgnoreMatcher([]) } : await loadIgnore(ctx.dir, ctx.dockerfilePath);
    const s = (session = new BuildSession(deps, opts, plan, ctx.dir, matcher, !ctx.temporary));
    if ((opts.cacheFrom ?? []).length > 0 && !opts.noCache) {
      s.cache.remote = await RemoteCacheSource.load(await importLocations(deps, opts.cacheFrom!), s.progress, s.signal);
    }
    // One platform of several: the caller's lease keeps the image until its index names it.
    const lease = opts.partOfIndex ? <T>(fn: () => Promise<T>) => fn() : deps.withLease;
    const result = await lease(async () => {
      // Layers of --cache-from hits may still be downloading: stored before the image names them (or the build ends).
      await runStages(s, plan).then(
        () => s.cache.fetching.settled(),
        async (e: unknown) => {
          await s.cache.fetching.settled().catch(() => undefined);
          throw e;
        },
      );
      const built = s.stageResults.get(plan.target.index)!;
      const final = opts.squash ? await squashState(s, built) : built;
      const config = final.config;
      if (opts.labels && Object.keys(opts.labels).length > 0) {
        const c = (config.config ??= {});
        c.Labels = { ...(c.Labels ?? {}), ...opts.labels };
      }
      if (epoch !== undefined) config.created = clampCreated(config.created, epoch);
      const inline = (opts.cacheTo ?? []).some((c) => c.type === 'inline') ? inlineCache(s, final) : undefined;
      if (inline !== undefined) (config as unknown as Record<string, unknown>)[INLINE_CACHE_FIELD] = inline;
      // The config's digest is known before it is stored: both documents written at once, and the tags' current
      // targets read meanwhile (a store of round trips, containerd's, waits for none of them in turn).
      const configText = JSON.stringify(config);
      const configDigest = sha256Digest(configText);
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: configDigest, size: Buffer.byteLength(configText) },
        layers: final.layers,
      };
      const [configBlob, manifestBlob, current] = await Promise.all([
        writeBlob(deps, configText, configDigest),
        writeBlob(deps, JSON.stringify(manifest)),
        opts.partOfIndex ? [] : Promise.all(tags.map((t) => deps.refs.get(t))),
      ]);
      const stored = await storedImage(deps.content, { descriptor: { mediaType: MediaType.OciManifest, digest: manifestBlob.digest, size: manifestBlob.size }, id: configBlob.digest }, opts.outputs ?? []);
      const descriptor = stored.descriptor;
      const image = { id: stored.id, manifestDigest: descriptor.digest, manifestSize: descriptor.size, tags };
      if (opts.partOfIndex) cacheParts?.add(s, built);
      if (opts.partOfIndex) return { ...image, steps: s.ranSteps, cached: s.cachedSteps };
      for (const [i, t] of tags.entries()) if (current[i]?.digest !== descriptor.digest) await deps.setRef(t, descriptor);
      const storesImage = (opts.outputs ?? []).length === 0 || (opts.outputs ?? []).some((o) => o.type === 'image');
      if (tags.length === 0 && storesImage) await deps.keepUnnamed?.(descriptor);
      await writeOutputs(s, final, descriptor, tags, opts.outputs ?? []);
      for (const to of opts.cacheTo ?? []) if (to.type !== 'inline') await writeCache(s, deps, built, to);
      return { ...image, steps: s.ranSteps, cached: s.cachedSteps };
    });
    await s.hasher.save();
    return result;
  } finally {
    await session?.close();
    if (ctx.temporary) await rm(ctx.dir, { recursive: true, force: true });
  }
}
