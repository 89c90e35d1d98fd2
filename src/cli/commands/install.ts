/**
 * `kiln install` (also `kiln system install`): the kiln agent on a builder
 * node of the current kubeconfig context, so `--backend kube` (and `auto`)
 * builds and manages images in that node's containerd. The work is
 * src/kube/install.ts; this file reads flags and prints.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { globals } from '../context.js';
import { printJSON } from '../output.js';
import { kilnVersion } from '../../version.js';

interface InstallFlags {
  selector?: string;
  agentImage?: string;
  imagePullPolicy: string;
  containerdSocket?: string;
  containerdRoot?: string;
  containerdState?: string;
  agentRoot: string;
  force?: boolean;
  wait: boolean;
  timeout: string;
  format?: string;
}

const POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export function installCommand(parent: Command): Command {
  return parent
    .command('install')
    .description('Put the kiln agent on a builder node of the current Kubernetes context (then --backend kube builds there)')
    .option('--selector <labels>', 'the builder node, as a label selector (required when more than one node could be chosen)')
    .option('--agent-image <image>', "the agent's image (default: kiln:VERSION, kiln's own image; kiln system agent-image makes it)")
    .option('--image-pull-policy <policy>', 'Always|IfNotPresent|Never', 'IfNotPresent')
    .option('--containerd-socket <path>', "the node's containerd socket (default: found from the node's runtime: k3s, RKE2 or containerd)")
    .option('--containerd-root <path>', "containerd's root directory on the node")
    .option('--containerd-state <path>', "containerd's state directory on the node (default: the socket's directory)")
    .option('--agent-root <path>', "the agent's directory on the node (build cache, synced contexts)", '/var/lib/kiln-agent')
    .option('--force', 'replace an installed agent')
    .option('--no-wait', 'do not wait for the agent to be ready')
    .option('--timeout <seconds>', 'how long to wait for the agent to be ready', '300')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (opts: InstallFlags, cmd: Command) => {
      const g = globals(cmd);
      const policy = POLICIES.find((p) => p === opts.imagePullPolicy);
      if (!policy) throw invalidArgument(`--image-pull-policy ${opts.imagePullPolicy}: not one of ${POLICIES.join(', ')}`);
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw invalidArgument(`--timeout ${opts.timeout}: not a number of seconds`);
      const [{ loadKube }, { install }] = await Promise.all([import('../../kube/kubeconfig.js'), import('../../kube/install.js')]);
      const k = loadKube(g);
      const json = opts.format === 'json';
      const out = json ? process.stderr : process.stdout;
      const tty = Boolean(out.isTTY);
      let open = false;
      const endLine = () => {
        if (open) out.write('\n');
        open = false;
      };
      const version = kilnVersion();
      const r = await install(k, {
        ...(opts.selector !== undefined ? { selector: opts.selector } : {}),
        image: opts.agentImage ?? `kiln:${version}`,
        imagePullPolicy: policy,
        version,
        containerd: { socket: opts.containerdSocket, root: opts.containerdRoot, state: opts.containerdState },
        agentRoot: opts.agentRoot,
        force: Boolean(opts.force),
        wait: opts.wait,
        timeoutMs: timeout * 1000,
        log: (line) => {
          endLine();
          out.write(line + '\n');
        },
        progress: (line, ms) => {
          const text = `waiting for the agent: ${line} (${(ms / 1000).toFixed(0)} s)`;
          if (tty) {
            out.write(`\r\x1b[K${text}`);
            open = true;
          } else out.write(text + '\n');
        },
        logs: (lines) => {
          endLine();
          out.write(lines.length ? `the agent's last log lines:\n${lines.map((l) => `  ${l}\n`).join('')}` : 'the agent printed nothing\n');
        },
      }).finally(endLine);
      if (json) return printJSON(r);
      if (r.pod) out.write(`kiln agent ready on node ${r.node} in ${(r.readyMs! / 1000).toFixed(1)} s (pod ${r.namespace}/${r.pod}, image ${r.image})\n`);
      else out.write(`kiln agent installed on node ${r.node} (not waiting for it: kiln system info shows when it is ready)\n`);
      const ctx = g.context ? ` -x ${g.context}` : '';
      out.write(`use it: kiln --backend kube${ctx} images (without a containerd socket here, --backend auto picks it)\n`);
    });
}

export function register(program: Command): void {
  installCommand(program);
}
