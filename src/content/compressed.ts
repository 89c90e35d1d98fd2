/**
 * Compressed forms of stored layers: `compressed/<codec>/<hex>` holds the
 * descriptor of the blob that is layer sha256:<hex> compressed with <codec>
 * (written by a push, which compresses the uncompressed layers a build
 * stores). A second push finds it and compresses nothing. GC keeps a form as
 * long as its layer is kept, and drops the record with the layer.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '../oci/types.js';
import { ifExists, unlinkQuiet, writeFileAtomic } from '../util/fsutil.js';
import type { ContentStore } from './store.js';

export type FormCodec = 'gzip' | 'zstd';

/** What push needs: the form of a layer, if one was made, and a way to record a new one. */
export interface CompressedForms {
  get(layer: string, codec: FormCodec): Promise<Descriptor | undefined>;
  set(layer: string, codec: FormCodec, form: Descriptor): Promise<void>;
}

const hexOf = (digest: string): string | undefined => /^sha256:([a-f0-9]{64})$/.exec(digest)?.[1];

export class LayoutCompressedForms implements CompressedForms {
  constructor(
    private readonly root: string,
    private readonly content: ContentStore,
  ) {}

  private path(layer: string, codec: FormCodec): string | undefined {
    const hex = hexOf(layer);
    return hex === undefined ? undefined : join(this.root, 'compressed', codec, hex);
  }

  /** The recorded form, when its blob is still stored. */
  async get(layer: string, codec: FormCodec): Promise<Descriptor | undefined> {
    const path = this.path(layer, codec);
    const text = path === undefined ? undefined : await ifExists(readFile(path, 'utf8'));
    if (text === undefined) return undefined;
    let d: Descriptor;
    try {
      d = JSON.parse(text) as Descriptor;
    } catch {
      return undefined; // a torn record: the form is made again
    }
    const st = typeof d.digest === 'string' ? await this.content.stat(d.digest) : undefined;
    return st !== undefined && st.size === d.size ? d : undefined;
  }

  async set(layer: string, codec: FormCodec, form: Descriptor): Promise<void> {
    const path = this.path(layer, codec);
    if (path === undefined) return;
    await mkdir(join(this.root, 'compressed', codec), { recursive: true });
    await writeFileAtomic(path, JSON.stringify({ mediaType: form.mediaType, digest: form.digest, size: form.size }));
  }

  /** GC: adds to `keep` the forms of kept layers; removes the records of layers not kept. */
  async extendKeep(keep: Set<string>): Promise<void> {
    for (const codec of ['gzip', 'zstd'] as const) {
      const dir = join(this.root, 'compressed', codec);
      for (const name of (await ifExists(readdir(dir))) ?? []) {
        const layer = `sha256:${name}`;
        const form = keep.has(layer) ? await this.get(layer, codec) : undefined;
        if (form !== undefined) keep.add(form.digest);
        else if (hexOf(layer) !== undefined || name.includes('.tmp-')) await unlinkQuiet(join(dir, name));
      }
    }
  }
}
