/** What docker prints around a pull: the `Pulling from` header, then the digest and status lines (pull, and run/create when they pull). */
import { familiarString, parseNormalizedNamed, parseReference } from '../name/reference.js';

export interface PullReport {
  /** Before the pull: `Using default tag: latest` (pull only) and `TAG: Pulling from REPO`. */
  start(name: string, opts?: { defaultTag?: boolean }): void;
  done(result: { digest: string; upToDate: boolean }): void;
}

export function pullReport(out: NodeJS.WritableStream): PullReport {
  let familiar = '';
  return {
    start(name, opts = {}) {
      const ref = parseNormalizedNamed(name);
      const explicit = parseReference(name);
      familiar = familiarString(ref);
      if (opts.defaultTag && !explicit.tag && !explicit.digest) out.write('Using default tag: latest\n');
      out.write(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}\n`);
    },
    done(result) {
      out.write(`Digest: ${result.digest}\n`);
      out.write(result.upToDate ? `Status: Image is up to date for ${familiar}\n` : `Status: Downloaded newer image for ${familiar}\n`);
    },
  };
}

/** `busybox` → `busybox:latest`, as docker names an image it did not find. */
export const familiarName = (name: string): string => familiarString(parseNormalizedNamed(name));
