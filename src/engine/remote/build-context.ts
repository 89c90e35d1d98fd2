/**
 * What the client prepares before a remote build: the context directory (a
 * tar on stdin or from a URL is unpacked to a temp dir first), the
 * Dockerfile's text and name (found as the local builder finds them), the
 * context's id on the agent (a hash of this host, user and the context's
 * real path: the same context reuses the same synced copy), the scan, the
 * manifest last synced for it (the base of a delta), and the secrets' values. Options that need this machine (ssh-agent sockets,
 * outputs written to local files) are refused in one line.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { secretValue } from '../../builder/mounts.js';
import type { BuildOptions } from '../../builder/types.js';
import { invalidArgument, isErrno, notFound, unimplemented } from '../../errors.js';
import { remoteOptions, type BuildStart } from './build-start.js';
import { manifestDigest } from './sync/manifest.js';
import { loadLastSent, readKnownScan, readLastSentDigest, saveLastSent } from './sync/lastsent.js';
import type { BuildRequest } from './build-client.js';
import { scanContext, type ScannedContext } from './sync/scan.js';

export interface PreparedBuild extends BuildRequest {
  cleanup(): Promise<void>;
}

/** Options that need this machine: refused before anything is sent. */
export function refuseLocalOnly(opts: BuildOptions, host: string): void {
  if ((opts.ssh ?? []).length > 0) {
    throw unimplemented(`--ssh is not available for builds through the kiln agent at ${host}: the agent cannot reach this machine's ssh-agent`, { hint: 'build locally (without --host) for RUN --mount=type=ssh' });
  }
  const local = (opts.outputs ?? []).find((o) => o.type !== 'image');
  if (local) {
    throw unimplemented(`-o type=${local.type} is not available for builds through the kiln agent at ${host}: the image stays on the agent`, { hint: `build with -t NAME, then kiln --host ${host} save NAME -o FILE` });
  }
  if ((opts.outputs ?? []).some((o) => o.type === 'image' && o.compression)) {
    throw unimplemented(`-o compression=estargz is not available for builds through the kiln agent at ${host}`, { hint: 'build locally (without --host) for eStargz layers' });
  }
}

const contextId = (what: string): string => createHash('sha256').update(`${hostname()}\0${process.getuid?.() ?? ''}\0${what}`).digest('hex').slice(0, 40);

/** The client's cache folder for the context digests memo (shared with local builds when it is the same root). */
export function clientCacheDir(): string {
  if (process.env.KILN_ROOT) return process.env.KILN_ROOT;
  return path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME || tmpdir(), '.cache'), 'kiln');
}

export async function prepareBuild(opts: BuildOptions, host: string): Promise<PreparedBuild> {
  const temps: string[] = [];
  const cleanup = async () => {
    for (const t of temps) await rm(t, { recursive: true, force: true });
  };
  try {
    let dir: string | undefined;
    let id: string;
    if (opts.contextTar) {
      dir = await mkdtemp(path.join(tmpdir(), 'kiln-context-'));
      temps.push(dir);
      // Loaded only for a piped context: a directory context needs no tar code.
      const [{ decompress }, { extractLayer }] = await Promise.all([import('../../layer/compress.js'), import('../../layer/extract.js')]);
      await extractLayer(await decompress(opts.contextTar), dir, { sameOwner: false, xattrs: false, whiteouts: 'none' }); // a plain tar: .wh. names are files
      id = contextId('<stdin>');
    } else if (!opts.context && opts.dockerfileText !== undefined) {
      id = contextId('<none>');
    } else {
      if (!opts.context) throw invalidArgument('no build context given', { hint: 'kiln build [OPTIONS] PATH | -' });
      dir = path.resolve(opts.context);
      id = contextId(await realpath(dir).catch(() => dir!));
    }
    let dockerfileText = opts.dockerfileText;
    let dockerfilePath: string | undefined;
    if (dockerfileText === undefined) {
      dockerfilePath = opts.file === undefined ? path.join(dir!, 'Dockerfile') : opts.contextTar ? path.resolve(dir!, opts.file) : path.resolve(opts.file);
      try {
        dockerfileText = await readFile(dockerfilePath, 'utf8');
      } catch (e) {
        if (isErrno(e, 'ENOENT')) throw notFound(`Dockerfile ${dockerfilePath} not found`, { hint: 'pass -f FILE, or put a Dockerfile in the context' });
        if (isErrno(e, 'ENOTDIR') || isErrno(e, 'EISDIR')) throw notFound(`context ${dir} is not a directory with a Dockerfile`);
        throw e;
      }
    }
    const cacheDir = clientCacheDir();
    const storedDigest = readLastSentDigest(cacheDir, host, id); // in the thread pool while the context is scanned
    // The walk's fingerprint when that manifest was sent: the same walk (and memo) proves the same manifest.
    const known = readKnownScan(cacheDir, host, id, storedDigest);
    const scanned: ScannedContext = dir
      ? await scanContext(dir, { ...(dockerfilePath ? { dockerfile: dockerfilePath } : {}), cacheDir, known, saveMemoLater: true })
      : { manifest: { entries: [] }, digest: manifestDigest({ entries: [] }), entryCount: 0, sources: new Map<string, string>(), fingerprint: '' };
    const secrets = (opts.secrets ?? []).map((s) => ({ id: s.id, value: secretValue(s) }));
    const digest = scanned.digest;
    const last = await loadLastSent(cacheDir, host, id, scanned, storedDigest);
    const start: BuildStart = {
      contextId: id,
      dockerfileText,
      dockerfileName: dockerfilePath ? path.basename(dockerfilePath) : 'Dockerfile',
      secretIds: secrets.map((s) => s.id),
      manifestDigest: digest,
      ...(last ? { manifestBase: last.digest } : {}),
      eventBatches: true,
      options: remoteOptions(opts),
    };
    // Nothing changed (the stored digest named this manifest: loadLastSent gave the scan back): the stored manifest is
    // this one already. The digest memo of the scan is written here too, while the agent builds (or at the end,
    // whatever happened).
    const same = last === scanned;
    const onSynced = async () => {
      await scanned.saveMemo?.();
      if (!same) await saveLastSent(cacheDir, host, id, scanned.manifest, digest, scanned.fingerprint);
    };
    const done = async () => {
      await scanned.saveMemo?.();
      await cleanup();
    };
    // (the same manifest: no base to diff against, the changes are none; its entries are not even looked at)
    return { start, scanned, secrets, ...(last && !same ? { base: last.manifest } : {}), onSynced, cleanup: done };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
