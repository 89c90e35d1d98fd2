/**
 * `kiln commit`, what every backend shares: the container's config as docker
 * commits it (the image's, with what `run` flags changed: command,
 * entrypoint, env, workdir, user, labels) and the layer of its writable root
 * (the overlay upper dir through the builder's layer writer, whiteouts for
 * deletions), without the /etc files kiln writes for the container's network
 * (docker's are bind mounts, never committed).
 */
import type { Readable } from 'node:stream';
import { diffDirectory } from '../../layer/diff.js';
import type { ContainerConfig } from '../../oci/types.js';
import type { CommitOptions, ContainerSpec } from '../containers.js';
import type { CommitInput, ImageDetail } from '../engine.js';

const NETWORK_FILES = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

/** The layer of a container's changes: its overlay upper dir as a tar. */
export function changesLayer(upper: string): Readable {
  return diffDirectory(upper, { overlay: true, exclude: (rel) => NETWORK_FILES.has(rel) });
}

/** The config docker commits: the image's, with the container's run flags applied. */
export function containerConfig(image: ContainerConfig | undefined, spec: ContainerSpec): ContainerConfig {
  const c: ContainerConfig = structuredClone(image ?? {});
  if (spec.entrypoint) {
    c.Entrypoint = spec.entrypoint.length > 0 ? spec.entrypoint : null;
    c.Cmd = null; // docker: --entrypoint resets the image's CMD
  }
  if (spec.cmd?.length) c.Cmd = spec.cmd;
  if (spec.env?.length) {
    const env = [...(c.Env ?? [])];
    for (const e of spec.env) {
      const key = e.split('=')[0];
      const i = env.findIndex((x) => x.split('=')[0] === key);
      if (i >= 0) env[i] = e;
      else env.push(e);
    }
    c.Env = env;
  }
  if (spec.workdir) c.WorkingDir = spec.workdir;
  if (spec.user) c.User = spec.user;
  if (spec.labels && Object.keys(spec.labels).length > 0) c.Labels = { ...(c.Labels ?? {}), ...spec.labels };
  return c;
}

/** The history entry's created_by, as docker writes it: the container's command. */
export const commandLine = (c: ContainerConfig): string => [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])].join(' ');

/** What the image service commits for a container (its image id and spec) whose writable root's upper dir is `upper`. */
export function commitInput(rec: { imageId: string; spec: ContainerSpec }, image: ImageDetail, upper: string, opts: CommitOptions): CommitInput {
  const config = containerConfig(image.config.config, rec.spec);
  return {
    base: rec.imageId,
    layer: changesLayer(upper),
    config,
    createdBy: commandLine(config),
    ...(opts.changes ? { changes: opts.changes } : {}),
    ...(opts.author ? { author: opts.author } : {}),
    ...(opts.message ? { message: opts.message } : {}),
    ...(opts.reference ? { reference: opts.reference } : {}),
  };
}
