import type { Command } from 'commander';
import { invalidArgument, notFound } from '../../errors.js';
import type { PortBinding } from '../../engine/containers.js';
import { withContainers } from '../engine.js';

/** `80`, `80/tcp`, `53/udp` → the port and protocol docker's `port` filters on. */
function parsePrivate(text: string): { port: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw invalidArgument(`invalid port "${text}"`, { hint: 'give PORT or PORT/tcp or PORT/udp' });
  return { port: Number(m[1]), protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

const hostSide = (b: PortBinding) => `${b.hostIp || '0.0.0.0'}:${b.hostPort}`;

export function register(program: Command): void {
  program
    .command('port')
    .description("List a container's published ports, or the host address of one (PRIVATE_PORT[/PROTO])")
    .argument('<container>', 'name or ID')
    .argument('[private-port]', 'PORT[/tcp|udp]')
    .action(async (ref: string, privatePort: string | undefined, _opts: unknown, cmd: Command) => {
      const want = privatePort === undefined ? undefined : parsePrivate(privatePort);
      const detail = await withContainers(cmd, (c) => c.inspectContainer(ref));
      const ports = [...detail.ports].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
      if (want) {
        const hits = ports.filter((p) => p.containerPort === want.port && p.protocol === want.protocol);
        if (hits.length === 0) throw notFound(`no public port '${want.port}/${want.protocol}' published for ${detail.name}`, { hint: `publish it with kiln run -p HOST:${want.port}` });
        for (const b of hits) process.stdout.write(hostSide(b) + '\n');
        return;
      }
      for (const b of ports) process.stdout.write(`${b.containerPort}/${b.protocol} -> ${hostSide(b)}\n`);
    });
}
