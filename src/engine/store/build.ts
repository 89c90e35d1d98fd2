/**
 * `build` for the local engine: the builder over this store, its snapshots
 * (owner-recorded), and pulls of missing base images; first, what builds
 * killed earlier left is cleared (./leftovers.ts).
 */
import { isKilnError } from '../../errors.js';
import { buildImage } from '../../builder/builder.js';
import type { BuildOptions, BuildResult } from '../../builder/types.js';
import { overlaySnapshotter } from '../../snapshot/overlay.js';
import { clearBuildLeftovers } from './leftovers.js';
import type { ImageConfig } from '../../oci/types.js';
import { fetchBlob, pullImage } from '../../image/pull.js';
import { pushBlob } from '../../image/push.js';
import { noProgress } from '../../image/progress.js';
import { resolveImage } from '../../image/resolve.js';
import type { LocalStores } from '../../image/store.js';

export async function buildWith(stores: LocalStores, withRegistry: () => Promise<LocalStores>, opts: BuildOptions): Promise<BuildResult> {
  // What builds killed earlier left (their RUN containers, their overlay mounts); live builds' are kept.
  await clearBuildLeftovers(stores.root);
  const pulled = new Set<string>();
  const image = async (ref: string) => {
    let local;
    if (opts.pull && !pulled.has(ref)) {
      pulled.add(ref);
      await pullImage(await withRegistry(), ref, opts.signal ? { signal: opts.signal } : {});
    }
    try {
      local = await resolveImage(stores.content, stores.refs, ref);
    } catch (e) {
      if (!isKilnError(e, 'NOT_FOUND')) throw e;
      await pullImage(await withRegistry(), ref, opts.signal ? { signal: opts.signal } : {});
      local = await resolveImage(stores.content, stores.refs, ref);
    }
    const config = JSON.parse((await stores.content.readBytes(local.id)).toString()) as ImageConfig;
    return { id: local.id, manifest: local.manifest, config };
  };
  return buildImage(
    {
      root: stores.root,
      content: stores.content,
      refs: stores.refs,
      snapshotter: stores.snapshotter ?? overlaySnapshotter(stores.root, { recordOwner: true }),
      image,
      setRef: stores.setRef,
      ...(stores.keepUnnamed ? { keepUnnamed: stores.keepUnnamed } : {}),
      withLease: stores.withLease,
      cacheRegistry: async () => {
        const s = await withRegistry();
        return {
          repository: (domain, path, actions) => s.registry.repository(domain, path, actions),
          fetchBlob: (repo, desc, signal) => fetchBlob(s.content, repo, desc, noProgress, signal),
          pushBlob: (repo, desc, mountFrom) => pushBlob(s, repo, desc, mountFrom, noProgress),
        };
      },
    },
    opts,
  );
}
