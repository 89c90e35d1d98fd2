/**
 * An image being built, as an immutable-ish value: its config (env, history,
 * diff IDs…) and its layer descriptors, plus the cache key that names the
 * whole state (parent key + every instruction applied so far).
 */
import { chainIds } from '../oci/config.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, ImageConfig } from '../oci/types.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import { sha256Digest } from '../oci/digest.js';

export interface ImageState {
  config: ImageConfig;
  layers: Descriptor[];
  /** Names this exact state for the cache: sha256 of its parent's key and the step. */
  key: string;
  /** Cache keys of the steps applied since the base image, across stages (what `--cache-to mode=min` exports). */
  steps?: string[];
  /** The key of the base state those steps start from (the base image's, or scratch's): `--cache-to` writes it as the root record. */
  baseKey?: string;
  /** The name BuildKit's cache records have for this state (buildkit-keys/step.ts), while kiln can compute it. */
  bkChain?: string;
}

/** A state's key after one more step described by `parts`. */
export const nextKey = (parent: string, ...parts: string[]): string => sha256Digest([parent, ...parts].join('\n'));

export const cloneConfig = (c: ImageConfig): ImageConfig => structuredClone(c);

/** Unpacks the state's layers (each once, shared) and returns its root directory. */
export function unpackState(snap: Snapshotter, content: Pick<ContentStore, 'reader'>, state: ImageState): Promise<string> {
  const chain = chainIds(state.config.rootfs.diff_ids);
  return snap.unpack(
    state.layers.map((d, i) => ({
      chainId: chain[i]!,
      descriptor: d,
      diffId: state.config.rootfs.diff_ids[i]!,
      open: () => content.reader(d.digest) as Promise<NodeJS.ReadableStream>,
    })),
  );
}
