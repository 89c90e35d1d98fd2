/**
 * The stargz-snapshotter's own estargz reader as an oracle (testing/buildkit/estargz-check, built by
 * scripts/estargz-check-build.sh from the Go modules BuildKit's build fetched, in seconds; found through
 * $KILN_TEST_ESTARGZ_CHECK or the script's --cached answer, as BuildKit is): it opens a blob through its footer, verifies the TOC
 * against the digest and every chunk of every regular file against the TOC.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './root.js';

const run = promisify(execFile);

export interface EstargzCheck {
  files: number;
  chunks: number;
  /** Every entry the reader's tree holds (directories it made for parents included). */
  names: string[];
}

let bin: Promise<string> | undefined;
const checker = (): Promise<string> =>
  (bin ??= process.env.KILN_TEST_ESTARGZ_CHECK
    ? Promise.resolve(process.env.KILN_TEST_ESTARGZ_CHECK)
    : run('bash', [path.join(repoRoot(), 'scripts', 'estargz-check-build.sh'), '--cached']).then((r) => r.stdout.trim()));

/** Checks the blob in `file`; rejects with the reader's error. */
export async function estargzCheck(file: string, tocDigest: string): Promise<EstargzCheck> {
  try {
    return JSON.parse((await run(await checker(), [file, tocDigest])).stdout) as EstargzCheck;
  } catch (e) {
    throw new Error((e as { stderr?: string }).stderr?.trim() || (e as Error).message);
  }
}
