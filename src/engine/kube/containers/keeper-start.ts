/**
 * `run -d` with `-p` or `--rm` on the kube backend: a detached kiln process
 * on this machine (./keeper.ts) keeps the port-forwards open and removes the
 * pod when it ends; it says "ready" (or its one-line error) before the CLI
 * returns, so a taken port fails the run.
 */
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedPrecondition } from '../../../errors.js';
import type { KubeFlags } from '../../../kube/kubeconfig.js';
import { helperCommand } from '../../../self.js';
import type { PortBinding } from '../../containers.js';

const KEEPER = fileURLToPath(new URL('./keeper.js', import.meta.url));

export interface KeeperArgs {
  flags: KubeFlags;
  pod: string;
  ports: PortBinding[];
  autoRemove: boolean;
}

export async function startKeeper(dir: string, args: KeeperArgs): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const log = await open(path.join(dir, `${args.pod}.log`), 'a');
  try {
    const cmd = helperCommand(KEEPER, [JSON.stringify(args)]);
    const child = spawn(cmd.file, cmd.args, { detached: true, stdio: ['ignore', 'pipe', log.fd] });
    const said = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]!);
      });
      child.on('exit', (code) => resolve(text.split('\n')[0] || `the keeper exited with code ${code}`));
    });
    child.stdout!.destroy();
    child.unref();
    if (said !== 'ready') throw failedPrecondition(said.replace(/^kiln: /, ''), { hint: `see ${path.join(dir, `${args.pod}.log`)}` });
  } finally {
    await log.close();
  }
}
