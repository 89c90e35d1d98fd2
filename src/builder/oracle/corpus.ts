/**
 * The builder corpus (./cases), as every test that builds it sees it: the case
 * names, each case's context copied and prepared (prepare.sh run, case.json
 * read and removed), the base images imported by a seed store and pushed to a
 * test registry, and the build args that point a case's Dockerfile at them.
 * Used by oracle.test.ts (buildah vs kiln build) and by
 * ../../executor/corpus.test.ts (kiln executor vs kiln build).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestRegistry } from '../../testing/registry.js';
import { kilnOk, testCache } from '../../testing/kiln.js';
import { repoRoot } from '../../testing/root.js';
import { run } from './builders.js';

export interface CaseSpec {
  /** `--target` for both builders. */
  target?: string;
  buildArgs?: Record<string, string>;
  /** `-f`, relative to the context. */
  file?: string;
  labels?: Record<string, string>;
  /** Secret id → file in the case directory. */
  secrets?: Record<string, string>;
  /** Paths that must (not) exist in buildah's result: proves the case exercises what it claims. */
  present?: string[];
  absent?: string[];
}

export const casesDir = path.join(repoRoot(), 'src', 'builder', 'oracle', 'cases');
/** Debian cases last: their base is imported while the busybox ones run. */
const usesDebian = (name: string): boolean => name.startsWith('debian-');
export const caseNames = readdirSync(casesDir).sort((a, b) => Number(usesDebian(a)) - Number(usesDebian(b)) || a.localeCompare(b));

/** Base image build args (BASE, ONBUILD_BASE, DEBIAN) → the ref pushed; Debian's resolves later, while the busybox cases run. */
export type Bases = Record<string, Promise<string>>;

/** Imports the corpus's base images into a seed store under `tmp` and pushes them to `reg`, so every builder pulls them. */
export async function pushBases(reg: TestRegistry, tmp: string): Promise<Bases> {
  const seed = path.join(tmp, 'seed');
  const push = async (tar: string, ref: string, changes: string[] = []): Promise<string> => {
    await kilnOk(['import', ...changes.flatMap((c) => ['-c', c]), tar, ref], { root: seed });
    await kilnOk(['push', ref], { root: seed });
    return ref;
  };
  const busybox = path.join(testCache(), 'busybox-rootfs.tar');
  const debian = path.join(testCache(), 'debian-rootfs.tar');
  const bases: Bases = {};
  bases.BASE = Promise.resolve(await push(busybox, `${reg.host}/base/busybox:1`));
  bases.ONBUILD_BASE = Promise.resolve(
    await push(busybox, `${reg.host}/base/onbuild:1`, ['ONBUILD RUN echo triggered > /onbuild.txt', 'ONBUILD ENV FROM_TRIGGER=yes']),
  );
  assert.ok(existsSync(debian), `${debian} is missing: run scripts/test-images.sh --debian`);
  bases.DEBIAN = push(debian, `${reg.host}/base/debian:12`);
  bases.DEBIAN.catch(() => undefined); // awaited by the Debian cases
  return bases;
}

export interface PreparedCase {
  context: string;
  spec: CaseSpec;
  /** The case's build args plus the bases its Dockerfile declares. */
  buildArgs: Record<string, string>;
}

/** Copies case `name` to `into` (a fresh directory), runs its prepare.sh there and removes it and case.json. */
export async function prepareCase(name: string, into: string, bases: Bases): Promise<PreparedCase> {
  const context = into;
  cpSync(path.join(casesDir, name), context, { recursive: true, verbatimSymlinks: true });
  const specFile = path.join(context, 'case.json');
  const spec = existsSync(specFile) ? (JSON.parse(readFileSync(specFile, 'utf8')) as CaseSpec) : {};
  rmSync(specFile, { force: true });
  const dockerfile = readFileSync(path.join(context, spec.file ?? 'Dockerfile'), 'utf8');
  const prep = path.join(context, 'prepare.sh');
  if (existsSync(prep)) {
    const r = await run('sh', [prep], { cwd: context });
    assert.equal(r.code, 0, `prepare.sh of ${name}: ${r.output}`);
    rmSync(prep);
  }
  const buildArgs: Record<string, string> = { ...spec.buildArgs };
  for (const [k, v] of Object.entries(bases)) if (new RegExp(`^\\s*ARG\\s+${k}\\b`, 'm').test(dockerfile)) buildArgs[k] = await v;
  return { context, spec, buildArgs };
}
