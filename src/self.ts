/**
 * The running kiln: node on dist/ (the npm package) or the packaged single
 * executable dist/kiln (scripts/package.mjs). Inside the executable kiln's
 * own helper processes (the detached container monitors) are the executable
 * itself, re-run with a hidden subcommand instead of node on a .js file.
 */
import path from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/** True inside the packaged executable. */
export const packaged = (): boolean => isSea();

/** The hidden first argument that makes the executable run one of its helper entries (src/cli/packaged.ts). */
export const HELPER_COMMAND = '__kiln-helper';

/**
 * The first argument of the log driver containerd's shim runs for kiln's
 * containers (src/engine/containerd/containers/logger.ts): its URI gives two
 * arguments only, this and the log file.
 */
export const CONTAINERD_LOGGER_COMMAND = '__kiln-containerd-logger';

/**
 * The command line that runs one of kiln's own entry scripts (dist/…/NAME.js)
 * in a new process: node on the script, or the executable with
 * `__kiln-helper NAME` (the entries src/cli/packaged.ts knows).
 */
export function helperCommand(script: string, args: string[]): { file: string; args: string[] } {
  const file = script.startsWith('file:') ? fileURLToPath(script) : script;
  if (!isSea()) return { file: process.execPath, args: [file, ...args] };
  return { file: process.execPath, args: [HELPER_COMMAND, path.basename(file, '.js'), ...args] };
}

/**
 * The packaged executable to copy into kiln's image: this one when kiln runs
 * packaged, else dist/kiln beside the dist/ this module runs from (`npm run
 * package` writes it), if it is there.
 */
export async function packagedExecutable(): Promise<string | undefined> {
  if (isSea()) return process.execPath;
  const beside = fileURLToPath(new URL('./kiln', import.meta.url));
  const { access, constants } = await import('node:fs/promises');
  return access(beside, constants.X_OK).then(
    () => beside,
    () => undefined,
  );
}
