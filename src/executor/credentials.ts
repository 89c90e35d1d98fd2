/**
 * Push and pull credentials for `kiln executor`, out of RUN steps' reach
 * (kaniko#106): the docker config ($DOCKER_CONFIG/config.json, default
 * STATE/.docker/config.json) is read into memory before anything runs and the
 * file is then removed, so no RUN step can read it. A file that cannot be
 * removed (a read-only Secret mount) stops the build before it starts.
 */
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { failedPrecondition, isErrno } from '../errors.js';
import { DockerConfigCredentials, readDockerConfig } from '../registry/credentials.js';

export interface TakenCredentials {
  file: string;
  store: DockerConfigCredentials;
  /** Registry hosts the file had entries for (for messages). */
  hosts: string[];
}

export function dockerConfigPath(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(stateDir, '.docker'), 'config.json');
}

export async function takeCredentials(file: string): Promise<TakenCredentials> {
  const doc = await readDockerConfig(file);
  try {
    await unlink(file);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) {
      throw failedPrecondition(`${file}: the registry credentials could not be removed after reading them (${(e as NodeJS.ErrnoException).code}), so RUN steps could read them`, {
        hint: 'mount the docker config in a writable directory (copy it from the Secret into an emptyDir), or point DOCKER_CONFIG at such a copy',
      });
    }
  }
  return { file, store: new DockerConfigCredentials(file, doc), hosts: Object.keys(doc.auths ?? {}) };
}
