import type { Command } from 'commander';
import { notRemote, withContainers, withEngine } from '../engine.js';
import { globals } from '../context.js';
import { pruneContainers } from './containers/prune.js';
import { humanSize, printJSON } from '../output.js';
import { kilnVersion } from '../../version.js';
import { installCommand } from './install.js';
import { uninstallCommand } from './uninstall.js';
import { registerAgentImage } from './agent-image.js';
import { dfCommand } from './df.js';
import { binfmtCommand } from './binfmt.js';
import { containerSizes, section, totalLine } from './prune-output.js';

/** `system info` (and `kiln info`): the backend, where it keeps images (for kube: where the agent runs), what it holds. */
export function infoCommand(parent: Command): Command {
  return parent
    .command('info')
    .description('Show the backend, the store and what it holds (kube: where the agent runs)')
    .option('-f, --format <format>', 'json, or a Go template over docker\'s fields (.Images .ServerVersion .DockerRootDir) and kiln\'s (.Backend .Root)')
    .action(async (opts: { format?: string }, cmd: Command) => {
      // A bad template is refused before the engine opens.
      const render = opts.format === undefined || opts.format === 'json' ? undefined : (await import('../template.js')).compileTemplate(opts.format);
      const info = await withEngine(cmd, (e) => e.info());
      const data = { ...info, version: kilnVersion() };
      if (opts.format === 'json') return printJSON(data);
      if (render) {
        const fields = { ...data, Images: info.images, ServerVersion: data.version, DockerRootDir: info.root, Backend: info.backend, Root: info.root, Blobs: info.blobs };
        process.stdout.write(`${render(fields as never)}\n`);
        return;
      }
      const where =
        info.backend === 'containerd'
          ? `Socket: ${info.root}\nNamespace: ${info.namespace}\nSnapshotter: ${info.snapshotter}\ncontainerd: ${info.serverVersion}`
          : info.backend === 'kube'
            ? kubeWhere(info as never)
            : info.backend === 'remote'
              ? `Host: ${info.root}\nAgent version: ${info.serverVersion}\nAgent backend: ${info.agent?.backend}\nAgent ${info.agent?.backend === 'containerd' ? `socket: ${info.agent.root}\nAgent namespace: ${info.agent.namespace}` : `root: ${info.agent?.root}`}`
              : `Root: ${info.root}`;
      process.stdout.write(`Backend: ${info.backend}\n${where}\nImages: ${info.images}\nBlobs: ${info.blobs} (${humanSize(info.bytes)})\nVersion: ${data.version}\n`);
    });
}

export function register(program: Command): void {
  const system = program.command('system').description('Manage kiln itself');
  infoCommand(system);
  installCommand(system);
  uninstallCommand(system);
  dfCommand(system);
  binfmtCommand(system);
  system
    .command('prune')
    .description('Remove stopped containers, dangling images (all unused ones with -a), dangling build cache (all with -a), what killed builds left, unused blobs and unpacked layers, stale partial downloads (and unused volumes with --volumes)')
    .option('-a, --all', 'remove every image no container uses and all build cache, not just the dangling ones')
    .option('-f, --force', 'do not prompt (kiln never prompts; accepted for Docker compatibility)')
    .option('--volumes', 'also remove volumes no container uses')
    .action(async (opts: { all?: boolean; volumes?: boolean }, cmd: Command) => {
      // Through an agent (--host) only its images and blobs are pruned: the remote backend has no containers.
      const remote = Boolean(globals(cmd).host);
      const sizes = remote ? new Map<string, number>() : await containerSizes(cmd);
      const removed = remote ? [] : await withContainers(cmd, (c) => pruneContainers(c));
      for (const id of removed) process.stdout.write(`deleted container: ${id}\n`);
      if (opts.volumes && remote) notRemote(cmd, 'has no volumes');
      if (opts.volumes) for (const v of await withContainers(cmd, (c) => c.pruneVolumes())) process.stdout.write(`deleted volume: ${v}\n`);
      const r = await withEngine(cmd, (e) => e.prune({ all: opts.all }));
      for (const id of r.deletedImages) process.stdout.write(`deleted: ${id}\n`);
      for (const what of r.buildLeftovers ?? []) process.stdout.write(`cleared build leftover: ${what}\n`);
      process.stdout.write(section('Deleted build cache objects:', r.buildCacheRemoved ?? []));
      process.stdout.write(totalLine(r.bytesFreed + removed.reduce((n, id) => n + (sizes.get(id) ?? 0), 0)));
    });
  system
    .command('check')
    .description("Verify every blob's digest and every reference in the store, and name what killed builds left")
    .option('--format <format>', 'json for machine-readable output')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const problems = await withEngine(cmd, (e) => e.check(), { check: true });
      const damage = problems.filter((p) => !p.info);
      if (opts.format === 'json') printJSON(problems);
      else {
        for (const p of problems) process.stdout.write(`${p.kind}: ${p.subject}: ${p.message}\n`);
        if (damage.length === 0) process.stdout.write('store is consistent\n');
      }
      if (damage.length > 0) process.exitCode = 1;
    });
  registerAgentImage(system);
}

/** Where the kube backend's agent runs: context, pod, node, the tunnel, and the agent's containerd. */
function kubeWhere(info: { kube: { context: string; server: string; namespace: string; pod: string; node: string; tunnel: string }; serverVersion?: string; agent?: { root: string; namespace?: string } }): string {
  const k = info.kube;
  return [
    `Context: ${k.context} (${k.server})`,
    `Agent: ${k.namespace}/${k.pod} on node ${k.node}`,
    `Agent version: ${info.serverVersion}`,
    `Agent containerd: ${info.agent?.root} (namespace ${info.agent?.namespace})`,
    `Tunnel: ${k.tunnel} (port-forward through the API server)`,
  ].join('\n');
}
