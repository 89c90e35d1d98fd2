/**
 * Several build Jobs at once, at most `parallel` running: each build's output
 * and status lines go to one stream, every line prefixed `[label] ` (one
 * build alone: no prefix); a build that fails does not stop the others; the
 * outcome of each is returned for the summary. Cancelling stops them all
 * (each deletes its Job).
 */
import { Writable } from 'node:stream';
import type { Kube } from '../kubeconfig.js';
import { runBuildJob, type BuildJobRequest, type BuildJobResult } from './run.js';

export interface LabelledBuild {
  label: string;
  req: BuildJobRequest;
}

export interface BuildOutcome {
  label: string;
  destinations: string[];
  result?: BuildJobResult;
  error?: Error;
  ms: number;
}

/** A Writable that writes whole lines to `out`, each with `prefix`; end() flushes a last partial line. */
export function prefixLines(out: NodeJS.WritableStream, prefix: string): Writable {
  let rest = '';
  const flush = (text: string) => {
    if (text !== '') out.write(text.split('\n').map((l) => `${prefix}${l}\n`).join(''));
  };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = rest + chunk.toString('utf8');
      const cut = text.lastIndexOf('\n');
      rest = text.slice(cut + 1);
      flush(text.slice(0, Math.max(cut, 0)));
      if (cut === 0) out.write(`${prefix}\n`);
      cb();
    },
    final(cb) {
      flush(rest);
      rest = '';
      cb();
    },
  });
}

export async function runBuildJobs(
  k: Kube,
  builds: LabelledBuild[],
  o: { parallel: number; output: NodeJS.WritableStream; quiet: boolean; signal?: AbortSignal },
): Promise<BuildOutcome[]> {
  const many = builds.length > 1;
  const outcomes: BuildOutcome[] = new Array(builds.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= builds.length || o.signal?.aborted) return;
      const b = builds[i]!;
      const t0 = Date.now();
      // -q: only the digests (and errors) are printed.
      const out = o.quiet
        ? new Writable({ write: (_c, _e, cb) => cb() })
        : many ? prefixLines(o.output, `[${b.label}] `) : new Writable({ write: (c: Buffer, _e, cb) => (o.output.write(c), cb()) });
      const status = (line: string) => {
        if (!o.quiet) out.write(`${line}\n`);
      };
      try {
        const result = await runBuildJob(k, b.req, { output: out, status, ...(o.signal ? { signal: o.signal } : {}) });
        outcomes[i] = { label: b.label, destinations: b.req.spec.destinations, result, ms: Date.now() - t0 };
      } catch (e) {
        outcomes[i] = { label: b.label, destinations: b.req.spec.destinations, error: e as Error, ms: Date.now() - t0 };
      } finally {
        await new Promise<void>((resolve) => out.end(resolve));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, builds.length)) }, worker));
  if (o.signal?.aborted) throw o.signal.reason;
  return outcomes;
}
