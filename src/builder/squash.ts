/**
 * Squash (`kiln executor --single-snapshot`, kaniko's one snapshot at the end):
 * the layers the build added on its base image become one layer. The base
 * chain is prepared in a snapshot, the build's layers are applied onto it in
 * order (whiteouts deleting as a runtime would), and the difference is written
 * as the one layer; the config's diff IDs follow, and of the history entries
 * that made those layers only the last keeps a layer (the others become
 * `empty_layer`). The step cache keeps the unsquashed steps (a rebuild hits them).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { decompress } from '../layer/compress.js';
import { extractLayer } from '../layer/extract.js';
import { commitMounted } from './layer-commit.js';
import type { BuildSession } from './session.js';
import { cloneConfig, unpackState, type ImageState } from './state.js';

/** How many layers of `state` the build added: its steps whose records have a layer. */
export function addedLayers(s: BuildSession, state: ImageState): number {
  return (state.steps ?? []).filter((k) => s.cache.used.get(k)?.layer).length;
}

export async function squashState(s: BuildSession, state: ImageState): Promise<ImageState> {
  const added = addedLayers(s, state);
  const n = state.layers.length - added;
  if (added <= 1 || n < 0) return state;
  const { snapshotter: snap, content } = s.deps;
  const diffIds = state.config.rootfs.diff_ids;
  const base: ImageState = { config: { ...cloneConfig(state.config), rootfs: { type: 'layers', diff_ids: diffIds.slice(0, n) } }, layers: state.layers.slice(0, n), key: `${state.key}-squash` };
  const chainDir = await unpackState(snap, content, base);
  const key = `kiln-squash-${randomBytes(6).toString('hex')}`;
  const mounted = await snap.prepare(key, chainDir);
  try {
    for (const d of state.layers.slice(n)) {
      const tar = await decompress((await content.reader(d.digest)) as Readable, d.mediaType);
      await extractLayer(tar, mounted.rootfs, { whiteouts: 'apply', ...(mounted.guard ? { guard: mounted.guard } : {}) });
    }
    const layer = (await commitMounted(content, snap, key, mounted, { codec: s.runDeps.codec, sourceDateEpoch: s.opts.sourceDateEpoch, always: true }))!;
    const config = cloneConfig(state.config);
    config.rootfs = { type: 'layers', diff_ids: [...diffIds.slice(0, n), layer.diffId] };
    // The last `added` entries that made a layer: all but the last become empty.
    const history = config.history ?? [];
    let seen = 0;
    for (let i = history.length - 1; i >= 0 && seen < added; i--) {
      if (history[i]!.empty_layer) continue;
      if (seen > 0) history[i] = { ...history[i]!, empty_layer: true };
      seen++;
    }
    return { ...state, config, layers: [...state.layers.slice(0, n), layer.descriptor] };
  } finally {
    await snap.remove(key);
  }
}
