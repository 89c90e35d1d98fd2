/**
 * buildctl's `--progress=plain` output read as steps: which Dockerfile steps
 * (WORKDIR, RUN, COPY, ADD) BuildKit took from a cache. A step is reused when
 * it printed `CACHED`, or (the last one, whose lazy layers the local exporter
 * needs) only the pulls and extractions of those layers and DONE, which
 * buildctl prints in place of CACHED when the pull's progress lands on that
 * step. Step headers look like `#7 [4/6] COPY …` or `#7 [stage-1  4/10] COPY …`.
 */
const HEADER = /^\[[^\]]*?\d+\/\d+\] (WORKDIR|RUN|COPY|ADD)\b/;

function byStep(stderr: string): Map<string, string[]> {
  const steps = new Map<string, string[]>();
  for (const l of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(l);
    if (m) steps.set(m[1]!, [...(steps.get(m[1]!) ?? []), m[2]!]);
  }
  return steps;
}

/** The Dockerfile steps buildctl showed (a header repeated when more progress comes later counts once). */
export function buildctlSteps(stderr: string): string[] {
  return [...byStep(stderr).values()].flatMap((lines) => lines.filter((l) => HEADER.test(l)).slice(0, 1));
}

/** How many of those steps were taken from a cache. */
export function buildctlReused(stderr: string): number {
  let n = 0;
  for (const lines of byStep(stderr).values()) {
    if (!lines.some((l) => HEADER.test(l))) continue;
    const rest = lines.filter((l) => !/^\[[^\]]*\] /.test(l) && !/^DONE /.test(l));
    if (rest.includes('CACHED') || (rest.length > 0 && rest.every((l) => /^(extracting )?sha256:[0-9a-f]{64}( .*)?$/.test(l)))) n++;
  }
  return n;
}

/** How many steps a plain progress display (kiln's or buildctl's: `#N CACHED`) shows taken from a cache. */
export const cachedSteps = (stderr: string): number => stderr.split('\n').filter((l) => /^#\d+ CACHED$/.test(l)).length;

/** A plain progress display's step headers, CACHED and DONE lines: what an assertion message shows. */
export const stepLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /^#\d+ (CACHED|DONE)/.test(l) || /^#\d+ \[/.test(l));
