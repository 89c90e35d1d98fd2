/** Build outputs besides the store: the final filesystem in a directory or a tar, or an OCI / Docker archive. */
import { execFile } from 'node:child_process';
import { lutimesSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileError, openOutput } from '../user-files.js';
import path from 'node:path';
import { promisify } from 'node:util';
import { internal } from '../errors.js';
import { saveArchive } from '../image/archive/save.js';
import type { Descriptor } from '../oci/types.js';
import type { ContentStore } from '../content/store.js';
import type { BuildSession } from './session.js';
import type { ImageState } from './state.js';
import type { OutputSpec } from './types.js';
import { compressImage, type OutputCompression } from './output-compression.js';
import { diffDirectory } from '../layer/diff.js';
import { pipeline } from 'node:stream/promises';

const run = promisify(execFile);

export async function writeOutputs(s: BuildSession, final: ImageState, descriptor: Descriptor, tags: string[], outputs: OutputSpec[]): Promise<void> {
  for (const o of outputs) {
    if (o.type === 'image') continue;
    if (o.type === 'local') {
      const view = await s.view(final);
      try {
        await mkdir(o.dest, { recursive: true }).catch((e: unknown) => Promise.reject(fileError(e, o.dest, 'build: -o type=local,dest=', true)));
        await run('cp', ['-a', '--no-preserve=xattr', `${view.dir}/.`, path.resolve(o.dest)]).catch((e: Error & { stderr?: string }) => {
          throw internal(`writing the build output to ${o.dest}: ${e.stderr?.trim() || e.message}`, { cause: e });
        });
        if (s.opts.sourceDateEpoch !== undefined) stampTimes(view.dir, path.resolve(o.dest), s.opts.sourceDateEpoch);
      } finally {
        await view.release();
      }
      continue;
    }
    if (o.type === 'tar') {
      await writeFilesystemTar(s, final, o.dest);
      continue;
    }
    await writeArchiveOutput(s.deps.content, o, descriptor, tags);
  }
}

/** `-o type=oci|docker,dest=FILE|-`: the image (a manifest, or a multi-platform index) as an archive. */
export async function writeArchiveOutput(content: ContentStore, o: { type: 'oci' | 'docker'; dest: string; compression?: OutputCompression }, descriptor: Descriptor, tags: string[]): Promise<void> {
  const image = o.compression ? await compressImage(content, descriptor, o.compression) : descriptor;
  const items = [{ ...(tags[0] ? { name: tags[0] } : {}), descriptor: image }];
  if (o.dest === '-') {
    await saveArchive(content, items, process.stdout, { format: o.type });
    return;
  }
  const out = await openOutput(o.dest, `build: -o type=${o.type},dest=`);
  try {
    await saveArchive(content, items, out.stream, { format: o.type });
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/** `-o type=tar,dest=`: the final filesystem, sorted; with SOURCE_DATE_EPOCH every file time is the epoch (as BuildKit's tar exporter). */
async function writeFilesystemTar(s: BuildSession, final: ImageState, dest: string): Promise<void> {
  const view = await s.view(final);
  try {
    const tar = () => diffDirectory(view.dir, { overlay: false, fixedMtime: s.opts.sourceDateEpoch });
    if (dest === '-') {
      await pipeline(tar(), process.stdout, { end: false });
      return;
    }
    const out = await openOutput(dest, 'build: -o type=tar,dest=');
    try {
      await pipeline(tar(), out.stream);
      await out.commit();
    } catch (e) {
      await out.abort();
      throw e;
    }
  } finally {
    await view.release();
  }
}

/** SOURCE_DATE_EPOCH and `-o type=local`: every file written gets the epoch as its times (as BuildKit's local exporter). */
function stampTimes(from: string, dest: string, epoch: number): void {
  for (const rel of readdirSync(from, { recursive: true, encoding: 'utf8' })) lutimesSync(path.join(dest, rel), epoch, epoch);
}
