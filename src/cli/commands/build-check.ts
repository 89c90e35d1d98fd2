/**
 * `kiln build --check`: BuildKit's build checks on the Dockerfile, nothing
 * built. The report is buildx's (`Check complete, N warnings have been found!`,
 * then each rule, message and source line); exit 1 when there is a warning.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, isErrno, notFound } from '../../errors.js';
import { checkDockerfile, formatCheckReport } from '../../dockerfile/checks.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

async function dockerfileText(context: string, file: string | undefined): Promise<{ text: string; name: string }> {
  if (file === '-' || (file === undefined && context === '-')) return { text: await readStdin(), name: 'Dockerfile' };
  if (file === undefined && /^https?:\/\//i.test(context)) {
    throw invalidArgument('--check reads the Dockerfile from a directory or standard input, not from a URL', { hint: 'download it, then kiln build --check -f Dockerfile .' });
  }
  const p = file ?? path.join(context, 'Dockerfile');
  try {
    return { text: await readFile(p, 'utf8'), name: path.basename(p) };
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw notFound(`Dockerfile ${p} not found`, { hint: 'pass -f FILE, or put a Dockerfile in the context' });
    throw e;
  }
}

export async function runCheck(context: string, file: string | undefined): Promise<void> {
  const { text, name } = await dockerfileText(context, file);
  const result = checkDockerfile(text, name);
  process.stdout.write(formatCheckReport(result, name));
  if (result.warnings.length > 0) process.exitCode = 1;
}
