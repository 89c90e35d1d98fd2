/**
 * `kiln job-init --from SECRET_DIR --to STATE_DIR` (hidden): a build Job's
 * init container. Copies the Job's Secret — `.dockerconfigjson` to
 * STATE/.docker/config.json (0600, where `kiln executor` reads it and then
 * deletes it before the first RUN), `Dockerfile` to STATE/Dockerfile — into the
 * pod's emptyDir, so the Secret itself is mounted in no container that runs
 * build steps. kiln's image has no shell or cp to do it otherwise.
 */
import { copyFile, mkdir, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { fileError } from '../../user-files.js';

export function register(program: Command): void {
  program
    .command('job-init', { hidden: true })
    .description("A build Job's init container: the Secret's docker config and Dockerfile into the executor's state dir")
    .requiredOption('--from <dir>', 'where the Secret is mounted')
    .requiredOption('--to <dir>', "the executor's state dir (an emptyDir)")
    .action(async (o: { from: string; to: string }) => {
      const copy = async (from: string, to: string, mode: number) => {
        await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
        await copyFile(from, to).catch((e: unknown) => Promise.reject(fileError(e, from, 'job-init: copying', false)));
        await chmod(to, mode);
      };
      await copy(path.join(o.from, '.dockerconfigjson'), path.join(o.to, '.docker', 'config.json'), 0o600);
      await copy(path.join(o.from, 'Dockerfile'), path.join(o.to, 'Dockerfile'), 0o644);
      process.stdout.write(`job-init: docker config and Dockerfile copied to ${o.to}\n`);
    });
}
