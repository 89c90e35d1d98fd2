/**
 * The keeper of a detached kube container (`node keeper.js ARGS-JSON`, or the
 * executable's `__kiln-helper keeper`): forwards its `-p` ports, watches its
 * pod, and when the container ends (or the pod is gone) closes them and, for
 * `--rm`, deletes the pod. Prints "ready" once the ports listen.
 */
import { isKilnError } from '../../../errors.js';
import { apis } from '../../../kube/api.js';
import { loadKube } from '../../../kube/kubeconfig.js';
import { forwardPorts } from './forward.js';
import type { KeeperArgs } from './keeper-start.js';
import { deletePod, waitPod } from './pods.js';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as KeeperArgs;
  const k = loadKube(args.flags);
  const a = apis(k);
  let fw: Awaited<ReturnType<typeof forwardPorts>> | undefined;
  try {
    fw = await forwardPorts(k, args.pod, args.ports);
  } catch (e) {
    process.stdout.write(`kiln: ${(e as Error).message}${isKilnError(e) && e.hint ? ` (${e.hint})` : ''}\n`);
    if (args.autoRemove) await deletePod(k, a, args.pod);
    process.exit(1);
  }
  process.stdout.write('ready\n');
  process.stdout.end();
  process.stderr.write(`${new Date().toISOString()} keeping pod ${k.namespace}/${args.pod}: ports ${JSON.stringify(args.ports)}${args.autoRemove ? ', --rm' : ''}\n`);
  await waitPod(k, a, args.pod, (p) => (!p || p.status?.containerStatuses?.[0]?.state?.terminated || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded' ? true : undefined));
  await fw.close();
  if (args.autoRemove) await deletePod(k, a, args.pod);
  process.stderr.write(`${new Date().toISOString()} pod ${k.namespace}/${args.pod} ended\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${new Date().toISOString()} ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
