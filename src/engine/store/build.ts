/**
 * `build` on any ImageStore: the builder over the store, its snapshotter (kiln's
 * overlay snapshots under `root`, owner-recorded, unless the store brings its
 * own), and pulls of missing base images; first, what builds killed earlier
 * left under `root` is cleared (./leftovers.ts).
 */
import { isKilnError } from '../../errors.js';
import type { BuilderDeps } from '../../builder/builder.js';
import { buildPlatforms } from '../../builder/platforms.js';
import type { BuildOptions, BuildResult } from '../../builder/types.js';
import { overlaySnapshotter } from '../../snapshot/overlay.js';
import { clearBuildLeftovers } from './leftovers.js';
import type { ImageConfig, Platform } from '../../oci/types.js';
import { formatPlatform } from '../../oci/platform.js';
import { fetchBlob, pullImage } from '../../image/pull.js';
import { pushBlob } from '../../image/push.js';
import { noProgress } from '../../image/progress.js';
import { REPO_DIGEST, resolveImage } from '../../image/resolve.js';
import type { ImageStore } from '../../image/store.js';
import type { RegistryClient } from '../../registry/client.js';

/** Where a build keeps its scratch (step snapshots, the build cache, runc's state), and the registry client, loaded on first use. */
export interface BuildPlace {
  root: string;
  registry: () => Promise<RegistryClient>;
  /** How RUN steps execute and whether stages run one at a time (`kiln executor`'s in-place root); default runc on overlays. */
  steps?: Pick<BuilderDeps, 'runStep' | 'sequentialStages'>;
}

export async function buildWith(stores: ImageStore, place: BuildPlace, opts: BuildOptions): Promise<BuildResult> {
  // What builds killed earlier left (their RUN containers, their overlay mounts); live builds' are kept.
  if (!place.steps?.runStep) await clearBuildLeftovers(place.root);
  // One lease for the whole build: what its steps, cache imports and outputs write through `leased` stays safe from GC until it ends.
  return stores.withLease((leased) => buildLeased(stores, leased, place, opts));
}

async function buildLeased(stores: ImageStore, leased: ImageStore, place: BuildPlace, opts: BuildOptions): Promise<BuildResult> {
  const pulled = new Set<string>();
  const image = async (ref: string, platform?: Platform) => {
    let local;
    const pull = async () => pullImage(stores, await place.registry(), ref, { ...(opts.signal ? { signal: opts.signal } : {}), ...(platform ? { platform } : {}) });
    const key = `${ref} ${platform ? formatPlatform(platform) : ''}`;
    if (opts.pull && !pulled.has(key)) {
      pulled.add(key);
      await pull();
    }
    try {
      local = await resolveImage(stores.content, stores.refs, ref, platform);
    } catch (e) {
      if (!isKilnError(e, 'NOT_FOUND')) throw e;
      // Stored, but not for this platform: the registry may have it; if it cannot be asked, the stored image's platforms are the answer.
      const stored = await resolveImage(stores.content, stores.refs, ref).then(() => true, () => false);
      try {
        await pull();
      } catch (pullError) {
        throw stored ? e : pullError;
      }
      local = await resolveImage(stores.content, stores.refs, ref, platform);
    }
    const config = JSON.parse((await stores.content.readBytes(local.id)).toString()) as ImageConfig;
    const repoDigest = local.refs.map((r) => r.descriptor.annotations?.[REPO_DIGEST]).find((d) => d) ?? local.target.descriptor.digest;
    return { id: local.id, manifest: local.manifest.parsed, config, repoDigest };
  };
  return buildPlatforms(
    {
      root: place.root,
      content: leased.content,
      refs: leased.refs,
      // volatile: a step's root is not synced when it is unmounted (0.3–0.7 s for a COPY of 1,667 files); its layer
      // blob is (the store fsyncs), and its kept upper dir is then as durable as an unpacked layer (never synced).
      // The leased view's (containerd's under the lease, the executor's in-place one), else kiln's overlay snapshots.
      snapshotter: leased.snapshotter?.() ?? overlaySnapshotter(place.root, { recordOwner: true, volatile: true }),
      image,
      setRef: leased.setRef,
      ...(leased.keepUnnamed ? { keepUnnamed: leased.keepUnnamed } : {}),
      // already under the build's lease (buildWith)
      withLease: (fn) => fn(),
      ...place.steps,
      cacheRegistry: async () => {
        const registry = await place.registry();
        return {
          repository: (domain, path, actions) => registry.repository(domain, path, actions),
          fetchBlob: (repo, desc, signal) => fetchBlob(leased.content, repo, desc, noProgress, signal),
          pushBlob: (repo, desc, mountFrom) => pushBlob(leased, repo, desc, mountFrom, noProgress),
        };
      },
    },
    opts,
  );
}
