import type { Command } from 'commander';
import { invalidArgument, isKilnError, notFound } from '../../errors.js';
import type { ContainerDetail } from '../../engine/containers.js';
import type { ImageDetail } from '../../engine/engine.js';
import { familiarString, parseReference } from '../../name/reference.js';
import { withContainers, withEngine } from '../engine.js';
import { printJSON } from '../output.js';
import { displayPlatform } from '../../oci/platform.js';

const familiar = (name: string): string => familiarString(parseReference(name));

function imageJSON(d: ImageDetail) {
  return {
    Id: d.id,
    RepoTags: d.repoTags.map(familiar),
    RepoDigests: d.repoDigests.map(familiar),
    Comment: d.config.comment ?? '',
    Created: d.config.created,
    Author: d.config.author ?? '',
    Architecture: d.config.architecture,
    Os: d.config.os,
    ...(d.config.variant ? { Variant: d.config.variant } : {}),
    Size: d.size,
    Config: d.config.config ?? {},
    RootFS: { Type: d.config.rootfs.type, Layers: d.config.rootfs.diff_ids },
    Manifest: { MediaType: d.manifestDescriptor.mediaType, Digest: d.manifestDescriptor.digest, Size: d.manifestDescriptor.size },
    // A multi-platform image (its names point at an index): the index and the platforms stored here.
    ...(d.index
      ? {
          Index: { MediaType: d.index.descriptor.mediaType, Digest: d.index.descriptor.digest, Size: d.index.descriptor.size },
          Platforms: d.index.platforms.map((p) => ({ Platform: displayPlatform(p.platform), Digest: p.digest })),
        }
      : {}),
  };
}

function containerJSON(d: ContainerDetail) {
  const s = d.spec;
  return {
    Id: d.id,
    Name: `/${d.name}`,
    Created: d.created,
    Path: d.args[0] ?? '',
    Args: d.args.slice(1),
    State: {
      Status: d.state,
      Running: d.state === 'running',
      Pid: d.pid ?? 0,
      ExitCode: d.exitCode ?? (d.state === 'exited' ? -1 : 0),
      Error: d.error ?? '',
      StartedAt: d.startedAt ?? '',
      FinishedAt: d.finishedAt ?? '',
    },
    Image: d.imageId,
    RestartCount: d.restartCount,
    LogPath: d.paths.log,
    Config: {
      Image: d.image,
      Hostname: s.hostname ?? d.id.slice(0, 12),
      User: s.user ?? '',
      Env: s.env ?? [],
      Cmd: s.cmd ?? null,
      Entrypoint: s.entrypoint ?? null,
      WorkingDir: s.workdir ?? '',
      Tty: !!s.tty,
      OpenStdin: !!s.interactive,
      Labels: s.labels ?? {},
    },
    HostConfig: {
      NetworkMode: s.network ?? 'bridge',
      AutoRemove: !!s.autoRemove,
      Privileged: !!s.privileged,
      ReadonlyRootfs: !!s.readOnly,
      Init: !!s.init,
      Memory: s.memory ?? 0,
      NanoCpus: s.cpus ? Math.round(s.cpus * 1e9) : 0,
      PidsLimit: s.pidsLimit ?? 0,
      CapAdd: s.capAdd ?? null,
      CapDrop: s.capDrop ?? null,
      Dns: s.dns ?? [],
      ExtraHosts: s.addHost ?? [],
      PortBindings: Object.fromEntries(d.ports.map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }]])),
    },
    Mounts: d.mounts.map((m) => ({ Type: m.type, ...(m.name ? { Name: m.name } : {}), Source: m.source, Destination: m.destination, RW: !m.readOnly })),
    NetworkSettings: { IPAddress: d.ip ?? '', Ports: Object.fromEntries(d.ports.map((p) => [`${p.containerPort}/${p.protocol}`, [{ HostIp: p.hostIp, HostPort: String(p.hostPort) }]])) },
  };
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Show the details of containers or images as JSON (Docker-style fields)')
    .argument('<name...>', 'container names or IDs, image names or IDs')
    .option('--type <type>', 'container or image (default: a container first, then an image)')
    .option('-f, --format <template>', 'a Go template for each object, e.g. "{{.Id}}" or "{{json .Config.Env}}"')
    .action(async (names: string[], opts: { type?: string; format?: string }, cmd: Command) => {
      // A bad template is reported before any engine is opened.
      const render = opts.format === undefined || opts.format === 'json' ? undefined : (await import('../template.js')).compileTemplate(opts.format);
      if (opts.type !== undefined && !['container', 'image'].includes(opts.type)) {
        throw invalidArgument(`invalid --type "${opts.type}"`, { hint: 'use container or image' });
      }
      // Containers first (as docker inspect), then images; each engine is opened only when needed.
      const found = new Map<string, unknown>();
      if (opts.type !== 'image') {
        await withContainers(cmd, async (c) => {
          for (const n of names) {
            try {
              found.set(n, containerJSON(await c.inspectContainer(n)));
            } catch (err) {
              if (!isKilnError(err, 'NOT_FOUND') || opts.type === 'container') throw err;
            }
          }
        }).catch((err: unknown) => {
          // A backend without containers (containerd): only images can match.
          if (!isKilnError(err, 'UNIMPLEMENTED') || opts.type === 'container') throw err;
        });
      }
      const rest = names.filter((n) => !found.has(n));
      if (rest.length > 0) {
        await withEngine(cmd, async (e) => {
          for (const n of rest) {
            try {
              found.set(n, imageJSON(await e.inspectImage(n)));
            } catch (err) {
              if (isKilnError(err, 'NOT_FOUND') && opts.type === undefined) throw notFound(`no such object: ${n}`, { hint: 'list containers with `kiln ps -a` and images with `kiln images`' });
              throw err;
            }
          }
        });
      }
      const out = names.map((n) => found.get(n));
      if (render) process.stdout.write(out.map((o) => render(o) + '\n').join(''));
      else printJSON(out);
    });
}
