/**
 * `kiln system binfmt [--install]`: which foreign platforms RUN steps and
 * containers can use here (QEMU user emulation through binfmt_misc), and,
 * with --install, registers Debian's qemu-user-static interpreters with the
 * F flag (root; binfmt_misc mounted when it is not). A build or a run of a
 * foreign platform registers what it needs by itself; this is for checking,
 * and for setting a host up once.
 */
import type { Command } from 'commander';
import { parsePlatform } from '../../oci/platform.js';
import { COMMON_PLATFORMS, emulationStatus, registerEmulation, type EmulationStatus } from '../../runtime/binfmt.js';
import { printJSON } from '../output.js';

const SAYS: Record<EmulationStatus['state'], string> = {
  native: 'native',
  ready: 'emulated (registered, F flag)',
  unregistered: 'not registered',
  'no-fix-binary': 'registered without the F flag (containers cannot use it)',
  disabled: 'registered but disabled',
  unsupported: 'no emulator known',
};

export function binfmtCommand(parent: Command): Command {
  return parent
    .command('binfmt')
    .description('Show (or with --install register) QEMU user emulation of foreign platforms for RUN steps and containers')
    .argument('[platforms...]', 'os/arch[/variant] (default: linux/amd64, arm64, arm/v7, riscv64, ppc64le, s390x, 386)')
    .option('--install', 'register the missing interpreters with the F flag (needs root and qemu-user-static)')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (names: string[], opts: { install?: boolean; format?: string }) => {
      const platforms = (names.length > 0 ? names : COMMON_PLATFORMS).map(parsePlatform);
      const rows: EmulationStatus[] = [];
      for (const p of platforms) rows.push(opts.install ? await registerEmulation(p, { replace: true }) : await emulationStatus(p));
      if (opts.format === 'json') return printJSON(rows);
      for (const r of rows) process.stdout.write(`${r.platform.padEnd(16)} ${SAYS[r.state]}${r.interpreter ? `  ${r.interpreter}` : ''}\n`);
    });
}
