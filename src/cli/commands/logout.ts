/** `kiln logout [SERVER]`: remove stored credentials for a registry. */
import type { Command } from 'commander';
// registry code is loaded when the command runs

export function register(program: Command): void {
  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'registry host (default docker.io)')
    .action(async (server: string | undefined) => {
      const { logout } = await import('../../registry/login.js');
      const r = await logout(server);
      process.stdout.write(r.removed ? `Removing login credentials for ${r.server}\n` : `Not logged in to ${r.server}\n`);
    });
}
