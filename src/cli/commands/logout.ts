/** `kiln logout [SERVER]`: remove stored credentials for a registry. */
import type { Command } from 'commander';
// The registry client (node:http) is loaded when the command runs, not at every kiln start.

export function register(program: Command): void {
  program
    .command('logout')
    .description('Log out from a registry')
    .argument('[server]', 'registry host (default docker.io)')
    .action(async (server: string | undefined) => {
      const r = await (await import('../../registry/login.js')).logout(server);
      process.stdout.write(r.removed ? `Removing login credentials for ${r.server}\n` : `Not logged in to ${r.server}\n`);
    });
}
