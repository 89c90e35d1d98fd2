/**
 * `kiln dev -t IMAGE [--deployment NAME] CONTEXT`: the inner loop in one
 * command. Builds through the current backend, restarts the Deployment so
 * its pods start from the new image, waits until they are ready, prints the
 * build time and the time to Ready, then watches the context and does it
 * again on every change (`--once`: one round, then exit).
 */
import { watch } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { createBuildProgress } from '../build-progress.js';
import { withEngine } from '../engine.js';
import { globals } from '../context.js';
import type { Engine } from '../../engine/engine.js';

interface DevFlags {
  tag: string;
  file?: string;
  deployment?: string;
  deployNamespace?: string;
  once?: boolean;
  timeout: string;
}

export function register(program: Command): void {
  program
    .command('dev')
    .description('Build on every change of the context and restart a Deployment with the new image (the inner loop)')
    .argument('<context>', 'the context directory (watched)')
    .requiredOption('-t, --tag <name>', 'the image the Deployment runs (e.g. app:dev, with imagePullPolicy Never or IfNotPresent)')
    .option('-f, --file <file>', 'the Dockerfile (default: CONTEXT/Dockerfile)')
    .option('--deployment <name>', 'the Deployment to restart after each build')
    .option('--deploy-namespace <ns>', "the Deployment's namespace (default: the context's, else default)")
    .option('--once', 'build (and restart) once, then exit')
    .option('--timeout <seconds>', 'how long to wait for the rollout', '180')
    .action(async (context: string, f: DevFlags, cmd: Command) => {
      const timeoutMs = Number(f.timeout) * 1000;
      if (!(timeoutMs > 0)) throw invalidArgument(`--timeout ${f.timeout}: not a number of seconds`);
      const g = globals(cmd);
      let roll: (() => Promise<number>) | undefined;
      let target = '';
      if (f.deployment) {
        const [{ loadKube }, { apis }, { restartDeployment, waitRollout }] = await Promise.all([import('../../kube/kubeconfig.js'), import('../../kube/api.js'), import('../../kube/rollout.js')]);
        const k = loadKube(g);
        const a = apis(k);
        const ns = f.deployNamespace ?? k.kc.getContextObject(k.context)?.namespace ?? 'default';
        target = `deployment ${ns}/${f.deployment}`;
        roll = async () => {
          await restartDeployment(k, a, f.deployment!, ns);
          return waitRollout(k, a, f.deployment!, ns, timeoutMs);
        };
      }
      const out = process.stdout;
      const round = async (e: Engine, n: number) => {
        const t0 = Date.now();
        const progress = createBuildProgress(process.stderr, 'quiet');
        const r = await e.build({ context, tags: [f.tag], progress, ...(f.file ? { file: f.file } : {}) }).finally(() => progress.done());
        const built = Date.now() - t0;
        let line = `#${n} built ${f.tag} (${r.id.slice(7, 19)}) in ${(built / 1000).toFixed(2)} s`;
        if (roll) line += `; ${target} Ready in ${((await roll()) / 1000).toFixed(2)} s`;
        out.write(`${line}; total ${((Date.now() - t0) / 1000).toFixed(2)} s\n`);
      };
      await withEngine(cmd, async (e) => {
        await round(e, 1);
        if (f.once) return;
        out.write(`watching ${path.resolve(context)} (Ctrl-C to stop)\n`);
        let n = 1;
        let dirty = false;
        let busy = false;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          const run = async () => {
            if (busy) return void (dirty = true);
            busy = true;
            try {
              do {
                dirty = false;
                await round(e, ++n).catch((err: Error) => void process.stderr.write(`#${n} failed: ${err.message}\n`));
              } while (dirty);
            } finally {
              busy = false;
            }
          };
          const watcher = watch(context, { recursive: true }, () => {
            clearTimeout(timer);
            timer = setTimeout(() => void run().catch(reject), 200);
          });
          process.once('SIGINT', () => {
            watcher.close();
            clearTimeout(timer);
            resolve();
          });
        });
      });
    });
}
