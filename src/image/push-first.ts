/**
 * A push's biggest blob goes to the registry first. The image's other blobs wait until its upload session is
 * open (its POST answered), or until it needed none (the registry has it, or mounted it) or failed.
 * A registry answers each POST with file writes and fsyncs (distribution: 5-10 ms on a journalled fs); a
 * config's POST sent beside the layer's made the layer's wait behind it (registry log: the config's answered in
 * 5 ms, the layer's in 13), and the layer's upload is the push's longest path. The others then go while its body
 * streams, and end long before it.
 */
import type { Manifest } from '../oci/types.js';

/**
 * Pushes one blob of the manifest with `push`, the biggest first. `push` calls `underWay` once the registry
 * has opened the blob's upload session (the biggest's then lets the others go); a blob the registry has, or
 * mounts, needs no session, and its end lets them go too.
 */
export type BlobTurn = <T>(digest: string, push: (underWay: () => void) => Promise<T>) => Promise<T>;

export function biggestFirst(manifest: Manifest): BlobTurn {
  // walkImage starts the blobs biggest first (a stable sort of config, layers): the same one here
  const biggest = [manifest.config, ...manifest.layers].reduce((a, b) => (b.size > a.size ? b : a)).digest;
  let open!: () => void;
  const begun = new Promise<void>((resolve) => (open = resolve));
  return async (digest, push) => {
    if (digest !== biggest) {
      await begun;
      return push(() => undefined);
    }
    try {
      return await push(open);
    } finally {
      open();
    }
  };
}
