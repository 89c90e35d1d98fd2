/** Listing and inspecting images, and their history, in an ImageStore. */
import { parseReference, repositoryName } from '../name/reference.js';
import { parseConfig } from '../oci/parse.js';
import type { HistoryRow, ImageDetail, ImageSummary } from './types.js';
import type { Platform } from '../oci/types.js';
import { mapLimit } from './limit.js';
import { LIST_READS, listLocalImages, REPO_DIGEST, resolveImage, type LocalImage } from './resolve.js';
import type { ImageStore } from './store.js';
import { newestFirst } from '../util/newest-first.js';

async function summarize(stores: Pick<ImageStore, 'content'>, image: LocalImage): Promise<ImageSummary & { config: ReturnType<typeof parseConfig> }> {
  const config = parseConfig(await stores.content.readBytes(image.id));
  const repoTags = image.refs.map((r) => r.name).filter((n) => !n.includes('@')).sort();
  const repoDigests = [
    ...new Set(
      image.refs.flatMap((r) => {
        const d = r.descriptor.annotations?.[REPO_DIGEST];
        return d ? [`${repositoryName(parseReference(r.name))}@${d}`] : r.name.includes('@') ? [r.name] : [];
      }),
    ),
  ].sort();
  const size = image.manifest.parsed.layers.reduce((n, l) => n + l.size, image.manifest.parsed.config.size + image.target.descriptor.size);
  return { id: image.id, repoTags, repoDigests, manifestDigest: image.target.descriptor.digest, created: config.created, size, config };
}

export async function listImages(stores: ImageStore, opts: { reference?: string } = {}): Promise<ImageSummary[]> {
  let repoFilter: string | undefined;
  let tagFilter: string | undefined;
  if (opts.reference) {
    const ref = parseReference(opts.reference);
    repoFilter = repositoryName(ref);
    tagFilter = ref.tag;
  }
  const images = (await listLocalImages(stores.content, stores.refs)).filter(
    (image) =>
      !repoFilter ||
      image.refs.some((r) => {
        const ref = parseReference(r.name);
        return repositoryName(ref) === repoFilter && (tagFilter === undefined || ref.tag === tagFilter);
      }),
  );
  // Their configs read LIST_READS at a time, as their manifests were.
  const out = await mapLimit(images, LIST_READS, async (image) => {
    const { config: _config, ...summary } = await summarize(stores, image);
    return summary;
  });
  return out.sort((a, b) => newestFirst(a.created, b.created));
}

export async function inspectImage(stores: Pick<ImageStore, 'content' | 'refs'>, input: string, platform?: Platform): Promise<ImageDetail> {
  const image = await resolveImage(stores.content, stores.refs, input, platform);
  const summary = await summarize(stores, image);
  const index = image.platforms ? { index: { descriptor: image.target.descriptor, platforms: image.platforms.map((p) => ({ platform: p.platform, digest: p.descriptor.digest })) } } : {};
  return { ...summary, manifest: image.manifest.parsed, manifestDescriptor: image.manifest.descriptor, ...index };
}

export async function imageHistory(stores: ImageStore, input: string): Promise<HistoryRow[]> {
  const image = await resolveImage(stores.content, stores.refs, input);
  const config = parseConfig(await stores.content.readBytes(image.id));
  const layers = [...image.manifest.parsed.layers];
  const rows: HistoryRow[] = (config.history ?? []).map((h) => {
    const empty = Boolean(h.empty_layer);
    const layer = empty ? undefined : layers.shift();
    return { id: '<missing>', created: h.created, createdBy: h.created_by ?? '', size: layer?.size ?? 0, comment: h.comment ?? '', emptyLayer: empty };
  });
  if (rows.length > 0) rows[rows.length - 1]!.id = image.id;
  return rows.reverse();
}
