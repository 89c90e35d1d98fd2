/** Helpers for the executor's tests: OCI layouts read and unpacked, trees compared, images pushed to a test registry. */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { decompress } from '../layer/compress.js';
import { extractLayer } from '../layer/extract.js';
import type { ImageConfig, Manifest } from '../oci/types.js';
import { buildFixture, type BuildFixture } from '../builder/test-support.js';
import { startRegistry, type TestRegistry } from '../testing/index.js';
import { kilnOk } from '../testing/kiln.js';

export interface ExecutorBase {
  fx: BuildFixture;
  reg: TestRegistry;
  /** busybox pushed as `REG/base/busybox:1`: what the executor's Dockerfiles start FROM. */
  base: string;
  stop(): Promise<void>;
}

/** A build fixture and a test registry holding busybox as the executor's base image. */
export async function executorBase(prefix: string): Promise<ExecutorBase> {
  const fx = await buildFixture(prefix);
  const reg = await startRegistry();
  const base = `${reg.host}/base/busybox:1`;
  await kilnOk(['tag', 'busybox', base], { root: fx.root });
  await kilnOk(['push', base], { root: fx.root });
  return {
    fx,
    reg,
    base,
    async stop() {
      await reg.stop();
      await fx.cleanup();
    },
  };
}

export interface LayoutImage {
  manifest: Manifest;
  config: ImageConfig;
  blob(digest: string): string;
}

/** The single image of an OCI layout directory (or of an OCI archive, unpacked into `dir` first). */
export function readLayout(dir: string, archive?: string): LayoutImage {
  if (archive) {
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-C', dir, '-xf', archive]);
  }
  const blob = (d: string) => path.join(dir, 'blobs', 'sha256', d.slice('sha256:'.length));
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as Manifest;
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as ImageConfig;
  return { manifest, config, blob };
}

/** Applies the image's layers into `into`, as a runtime would. */
export async function unpackImage(img: LayoutImage, into: string): Promise<void> {
  mkdirSync(into, { recursive: true });
  for (const l of img.manifest.layers) await extractLayer(await decompress(createReadStream(img.blob(l.digest))), into, { whiteouts: 'apply' });
}

/** path → type, permissions, owner, size, content hash or link target (not times: RUN steps run at different moments). */
export function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path.join(dir, r));
      let what = `${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isFile()) what += ` ${st.size} ${createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex').slice(0, 16)}`;
      if (st.isSymbolicLink()) what += ` -> ${readlinkSync(path.join(dir, r))}`;
      out[r] = what;
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** The parts of a config two builders of the same Dockerfile must agree on (not times, not layer digests). */
export function comparableConfig(c: ImageConfig): unknown {
  return {
    architecture: c.architecture,
    os: c.os,
    config: c.config,
    layers: c.rootfs.diff_ids.length,
    history: (c.history ?? []).map((h) => ({ created_by: h.created_by, empty_layer: Boolean(h.empty_layer) })),
  };
}

/** The corpus: RUN, COPY, ENV, ARG, WORKDIR, USER, deletions (files, trees, replaced dirs), symlinks, modes, owners, multi-stage. */
export const CORPUS: Record<string, (base: string) => string> = {
  basic: (b) => `FROM ${b}
ENV A=1 B="two words"
ARG GREETING=hello
WORKDIR /app
COPY hello.txt ./
COPY dir/ /app/dir/
RUN echo "$GREETING $A $B" > /app/out.txt && rm /bin/ls && mkdir -p /etc/empty && rm -rf /var/www
RUN echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && mkdir -p /home/app && chown 1234:1234 /home/app
USER app
RUN echo "$HOME" > /home/app/home && umask 027 && mkdir /home/app/private && touch /home/app/private/f
USER root
WORKDIR /data
RUN chmod 0750 /data && chown 1234 /data && ln -s /app/out.txt /link && mkfifo /app/fifo
LABEL x=y
EXPOSE 8080
CMD ["sh"]
`,
  deletions: (b) => `FROM ${b}
RUN mkdir -p /opt/tree/a/b && echo 1 > /opt/tree/a/b/f && echo 2 > /opt/keep
RUN rm -rf /opt/tree/a && mkdir /opt/tree/a && echo new > /opt/tree/a/g && rm /opt/keep
RUN rm -rf /opt/tree && echo replaced > /opt/tree && rm -rf /tmp && ln -s /var /tmp
COPY --chmod=0600 hello.txt /opt/secret
`,
  multistage: (b) => `FROM ${b} AS build
WORKDIR /src
COPY hello.txt .
RUN tr a-z A-Z < hello.txt > /src/HELLO && rm hello.txt

FROM ${b}
COPY --from=build /src/HELLO /HELLO
RUN cat /HELLO > /copy
ENTRYPOINT ["cat", "/HELLO"]
`,
};

/** The context files the corpus COPYs. */
export const FILES = { 'hello.txt': 'hello file\n', 'dir/sub/a': 'a\n', 'dir/b': 'b\n' };
