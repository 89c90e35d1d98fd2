/** `kiln uninstall` (also `kiln system uninstall`): removes every object `kiln install` made, the node label, and this machine's client certificates. */
import type { Command } from 'commander';
import { globals } from '../context.js';
import { printJSON } from '../output.js';

export function uninstallCommand(parent: Command): Command {
  return parent
    .command('uninstall')
    .description('Remove the kiln agent and everything kiln install made from the current Kubernetes context')
    .option('--no-wait', 'do not wait for the pods and the namespace to be gone')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (opts: { wait: boolean; format?: string }, cmd: Command) => {
      const g = globals(cmd);
      const [{ loadKube }, { uninstall }, { clientCertDir, removeClientCerts }] = await Promise.all([
        import('../../kube/kubeconfig.js'),
        import('../../kube/uninstall.js'),
        import('../../kube/client-certs.js'),
      ]);
      const k = loadKube(g);
      const json = opts.format === 'json';
      const out = json ? process.stderr : process.stdout;
      const r = await uninstall(k, { keepNamespace: false, wait: opts.wait, log: (l) => void out.write(l + '\n') });
      const dir = clientCertDir(k.server, k.namespace);
      if (await removeClientCerts(dir)) {
        r.removed.push(`client certificates ${dir}`);
        out.write(`removed the client certificates ${dir}\n`);
      }
      if (json) return printJSON(r);
      out.write(r.removed.length ? `kiln uninstalled from context "${k.context}" (${r.removed.length} removed)\n` : `kiln is not installed in context "${k.context}", namespace ${k.namespace}: nothing to remove\n`);
    });
}

export function register(program: Command): void {
  uninstallCommand(program);
}
