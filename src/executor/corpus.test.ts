/**
 * `kiln executor` against `kiln build` on the whole builder corpus
 * (../builder/oracle/cases): every case is built both ways FROM the same base
 * images in one local registry, with SOURCE_DATE_EPOCH, and the two images must
 * have the same config — all of it, `created` times included, but for the
 * layers' diff_ids (see comparable()) — and the same flattened filesystem
 * (path, type, mode, owner, size, content sha256, link target, hardlink group).
 * The cases the executor refuses by design must be refused with their one line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kiln } from '../testing/kiln.js';
import { kilnBuild, tail } from '../builder/oracle/builders.js';
import { caseNames, prepareCase, pushBases, type Bases } from '../builder/oracle/corpus.js';
import { flattenImage } from '../builder/oracle/flatten.js';
import { readLayoutImage, type ImageConfig } from '../builder/oracle/image.js';

/** Cases the executor refuses by design, with the line it must say. */
const REFUSED: Record<string, RegExp> = {
  // RUN --mount (bind, tmpfs, cache; secrets are mounts too): the executor runs steps in its own root and makes no mounts.
  'run-mounts': /RUN --mount \(and heredocs with #!\) cannot run in kiln executor: it makes no mounts/,
  'run-secret': /RUN --mount \(and heredocs with #!\) cannot run in kiln executor: it makes no mounts/,
};

/** Cases where the executor (or its build) still differs from kiln build, each with why. Such a case must still differ; any other must match. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  // Only under --root DIR (this test's mode): RUN enters DIR by chroot(8) and the executor makes no mounts, so the
  // base's empty /dev stays empty; in its container the executor runs at / and the runtime's /dev is there.
  'special-files': 'RUN under --root has no /dev/null or /dev/zero (the busybox base has no device nodes)',
};

/**
 * The whole config, `created` times included (SOURCE_DATE_EPOCH makes them
 * equal), but for the layers' diff_ids, of which only the number is compared:
 * the same changes are written as different tar bytes. kiln build's layer is
 * its overlay upper directory, the executor's a diff of two snapshots, so
 * (1) a directory emptied and refilled is one opaque whiteout in kiln build,
 * one whiteout per removed entry in the executor; (2) kiln build records a
 * directory whose only change was runc's removed mount points (`/etc`, for
 * hostname, hosts, resolv.conf) with the same mode and owner; (3) overlay
 * copies up a file opened for writing even if it is left as it was
 * (`/etc/.pwd.lock` under useradd). Applied, both give the same filesystem,
 * which is compared in full.
 */
function comparable(config: ImageConfig): ImageConfig {
  const c = structuredClone(config) as ImageConfig & { rootfs?: { diff_ids?: unknown } };
  if (c.rootfs) c.rootfs = { ...c.rootfs, diff_ids: `${config.rootfs?.diff_ids?.length ?? 0} layers` as unknown as string[] };
  return c;
}

/** Fixed, so both builds stamp the same `created` times and clamp new files' mtimes alike. */
const EPOCH = '1700000000';
const CONCURRENCY = 2;

let tmp: string;
let reg: TestRegistry;
let bases: Bases;
let buildRoot: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-exec-corpus-'));
  reg = await startRegistry({});
  bases = await pushBases(reg, tmp);
  buildRoot = path.join(tmp, 'build-store');
});

after(async () => {
  await reg?.stop();
  if (tmp && !process.env.KILN_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test('the refused and known-difference tables name only cases of the corpus', () => {
  assert.ok(caseNames.length >= 30, `the corpus has ${caseNames.length} cases, at least 30 expected`);
  for (const n of [...Object.keys(REFUSED), ...Object.keys(KNOWN_DIFFERENCES)]) assert.ok(caseNames.includes(n), `${n} is not a case of the corpus`);
});

describe('kiln executor vs kiln build on the builder corpus', { concurrency: CONCURRENCY }, () => {
  for (const name of caseNames) {
    const refused = REFUSED[name];
    const known = KNOWN_DIFFERENCES[name];
    const title = refused ? `${name}: refused (${refused.source.slice(0, 60)}…)` : known ? `${name} (known difference: ${known})` : name;
    test(title, { timeout: 300_000 }, async (t) => {
      const dir = path.join(tmp, name);
      const { context, spec, buildArgs } = await prepareCase(name, path.join(dir, 'ctx'), bases);
      const args = { ...buildArgs, SOURCE_DATE_EPOCH: EPOCH };
      const dest = `${reg.host}/exec/${name}:latest`;
      const flags = [
        ...Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
        ...Object.entries(spec.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        ...(spec.target ? ['--target', spec.target] : []),
        ...(spec.file ? ['--dockerfile', spec.file] : []),
      ];
      const layout = path.join(dir, 'layout');
      const exec = await kiln(
        ['executor', '--context', `dir://${context}`, '--root', path.join(dir, 'root'), '--state-dir', path.join(dir, 'state'), '-d', dest, '--no-push', '--oci-layout-path', layout, ...flags],
        { root: path.join(dir, 'unused-store') },
      );
      if (refused) {
        assert.notEqual(exec.code, 0, `case ${name}: the executor built what it must refuse`);
        const lines = exec.stderr.trim().split('\n').filter((l) => l.startsWith('kiln: '));
        assert.equal(lines.length, 1, exec.stderr);
        assert.match(lines[0]!, refused);
        return;
      }
      const failures: string[] = [];
      if (exec.code !== 0) failures.push(`kiln executor failed on ${name}:\n${tail(exec.stderr, 20)}`);
      else {
        const built = await kilnBuild(buildRoot, { name, context, buildArgs: args, target: spec.target, file: spec.file, labels: spec.labels }, dest);
        assert.equal(built.code, 0, `kiln build failed on ${name}:\n${tail(built.output, 20)}`);
        const [mine, theirs] = await Promise.all([readLayoutImage(layout, dest), readLayoutImage(buildRoot, dest)]);
        const [execTree, buildTree] = await Promise.all([flattenImage(mine, path.join(dir, 'flat-exec')), flattenImage(theirs, path.join(dir, 'flat-build'))]);
        for (const check of [
          () => assert.deepEqual(comparable(mine.config), comparable(theirs.config), `case ${name}: image configs differ`),
          () => assert.deepEqual(Object.fromEntries(execTree), Object.fromEntries(buildTree), `case ${name}: filesystems differ`),
        ]) {
          try {
            check();
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      }
      const failure = failures.length ? failures.join('\n') : undefined;
      if (!process.env.KILN_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
      if (known) {
        assert.ok(failure, `case ${name} now matches: remove it from KNOWN_DIFFERENCES`);
        t.diagnostic(`still differs as expected: ${failure.split('\n').slice(0, 4).join(' | ')}`);
      } else if (failure) {
        assert.fail(failure);
      }
    });
  }
});
