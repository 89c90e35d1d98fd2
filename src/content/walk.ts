/** What a descriptor points at: an index → its manifests, a manifest → config and layers. */
import { isIndexType, isManifestType } from '../oci/mediatypes.js';
import type { Descriptor, Index, Manifest } from '../oci/types.js';

/** Largest blob read to look for children when its media type is unknown. */
export const SNIFF_LIMIT = 4 << 20;

/** Should the blob behind `d` be read to find children? */
export const mayHaveChildren = (d: Descriptor): boolean =>
  isIndexType(d.mediaType) || isManifestType(d.mediaType) || (!d.mediaType && d.size <= SNIFF_LIMIT);

export interface Children {
  kind: 'index' | 'manifest' | 'leaf';
  /** Children of an index may be absent (a partial multi-platform pull); those of a manifest must exist. */
  descriptors: Descriptor[];
}

/** Parses a manifest or index blob into its children; anything else is a leaf. Throws SyntaxError on bad JSON. */
export function childrenOf(d: Descriptor, bytes: Buffer): Children {
  const known = isIndexType(d.mediaType) || isManifestType(d.mediaType);
  let doc: Partial<Index & Manifest>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Partial<Index & Manifest>;
  } catch (e) {
    if (known) throw e;
    return { kind: 'leaf', descriptors: [] };
  }
  if (Array.isArray(doc.manifests) && (isIndexType(d.mediaType) || !known)) return { kind: 'index', descriptors: doc.manifests };
  if (doc.config && Array.isArray(doc.layers)) return { kind: 'manifest', descriptors: [doc.config, ...doc.layers] };
  if (known) throw new SyntaxError(`not a ${isIndexType(d.mediaType) ? 'index' : 'manifest'}`);
  return { kind: 'leaf', descriptors: [] };
}
