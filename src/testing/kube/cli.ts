/**
 * scripts/cluster.sh's entry point: the test harness's cluster for a person.
 *   up DIR     start it with DIR as its directory, print how to use it, exit (the cluster keeps running)
 *   down DIR   stop it and remove all of it (processes, mounts, namespace, cgroups, DIR)
 */
import { startCluster, stopCluster } from './cluster.js';

async function main(argv: string[]): Promise<number> {
  const [verb, dir] = argv;
  if ((verb !== 'up' && verb !== 'down') || !dir) {
    process.stderr.write('usage: scripts/cluster.sh up|down DIR\n');
    return 2;
  }
  if (verb === 'down') {
    await stopCluster(dir);
    process.stdout.write(`cluster in ${dir} stopped and removed\n`);
    return 0;
  }
  const c = await startCluster({ dir, verbose: true });
  process.stdout.write(
    [
      `KUBECONFIG=${c.kubeconfig}`,
      `node: ${c.nodeName} (${c.nodeIP}, network namespace ${c.netns}; the API server and pod IPs are reachable only inside it)`,
      `containerd: ${c.containerdSocket}`,
      `  kiln --backend containerd --address ${c.containerdSocket} --namespace k8s.io import|load|pull …   (then imagePullPolicy: Never)`,
      `kubectl: ${c.dir}/kubectl get pods -A   (the cluster's own kubectl, run in the node's namespace)`,
      `shell in the node's namespace: nsenter --net=/run/netns/${c.netns} bash`,
      `logs: ${c.dir}/logs/`,
      `stop: scripts/cluster.sh down ${c.dir}`,
      '',
    ].join('\n'),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`cluster: ${e.message}\n`);
    process.exit(1);
  },
);
