/**
 * Extended attributes through the Debian `attr` tools (Node has no xattr
 * API): one `getfattr -R` run reads a whole tree (or one run a list of
 * paths), `setfattr` sets one value; both run by this process's command
 * shell (../util/shell-helper.ts).
 */
import path from 'node:path';
import { failedPrecondition, internal, isErrno } from '../errors.js';
import { shellHelper } from '../util/shell-helper.js';

async function run(cmd: string, args: string[]): Promise<string> {
  try {
    return (await shellHelper().run([cmd, ...args], { encoding: 'latin1' })).stdout;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw failedPrecondition(`${cmd} is not installed`, { hint: 'install the Debian package "attr" (apt-get install -y attr)', cause: err });
    }
    const stderr = (err as { stderr?: unknown }).stderr;
    throw internal(`${cmd} ${args.join(' ')} failed: ${String(stderr ?? '').trim() || (err as Error).message}`, { cause: err });
  }
}

/** Undoes getfattr's quoting of file names (`\012` octal, `\\`), bytes read as latin1. */
function unquote(s: string): string {
  const bytes = s.replace(/\\(\\|[0-7]{3})/g, (_m, g: string) => (g === '\\' ? '\\' : String.fromCharCode(parseInt(g, 8))));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * All extended attributes under `root` (symlinks not followed), keyed by the
 * path relative to `root` ('' for root itself). Only files that have some are listed.
 */
export async function readXattrTree(root: string, match = '-'): Promise<Map<string, Map<string, Buffer>>> {
  const abs = path.resolve(root);
  return parseDump(await run('getfattr', ['-R', '-P', '-h', '-d', '-m', match, '-e', 'base64', '--absolute-names', abs]), abs);
}

/** Bytes of paths one getfattr run is given (well under the kernel's limit on arguments). */
const ARGS_BYTES = 64 * 1024;

/**
 * The extended attributes of these paths only (relative to `root`, '' for root itself; symlinks not
 * followed), keyed as readXattrTree keys them: one getfattr run per ARGS_BYTES of names, none for none.
 */
export async function readXattrsOf(root: string, rels: string[]): Promise<Map<string, Map<string, Buffer>>> {
  const abs = path.resolve(root);
  const tree = new Map<string, Map<string, Buffer>>();
  for (let i = 0; i < rels.length; ) {
    const batch: string[] = [];
    let bytes = 0;
    for (; i < rels.length && (batch.length === 0 || bytes < ARGS_BYTES); i++) {
      const p = rels[i] === '' ? abs : path.join(abs, rels[i]!);
      batch.push(p);
      bytes += Buffer.byteLength(p) + 1;
    }
    for (const [k, v] of parseDump(await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', '--', ...batch]), abs)) tree.set(k, v);
  }
  return tree;
}

/** getfattr -d output (`# file: NAME` then `key=0s<base64>` lines) by path relative to `abs`. */
function parseDump(out: string, abs: string): Map<string, Map<string, Buffer>> {
  const tree = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const file = unquote(line.slice(8));
      current = new Map();
      tree.set(path.relative(abs, file), current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      const value = line.slice(eq + 1);
      const buf = value.startsWith('0s') ? Buffer.from(value.slice(2), 'base64') : value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1');
      current.set(line.slice(0, eq), buf);
    }
  }
  return tree;
}

/** Sets one extended attribute on `file` itself (a symlink is not followed). */
export async function setXattr(file: string, name: string, value: Buffer): Promise<void> {
  await run('setfattr', ['-h', '-n', name, '-v', `0s${value.toString('base64')}`, file]);
}
