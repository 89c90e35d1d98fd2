/**
 * The build correctness oracle: every case in ./cases is built by Debian's
 * `buildah bud` and by `kiln build` FROM the same images in one local
 * registry; the image configs and the flattened filesystems must match, but
 * for the intentional differences listed below. A case in KNOWN_GAPS must
 * still fail (so the table shrinks as the builder grows); any other case must
 * pass. The corpus itself is checked against buildah (case.json present/absent).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../../testing/registry.js';
import { buildahArgs, buildahBuild, kilnBuild, run, tail, type Buildah, type BuildRequest } from './builders.js';
import { compareBuilds, dropIfPlaceholder, dropOneSidedEmptyDirs, summarize, withParents, type Allowance, type Built } from './compare.js';
import { caseNames, prepareCase, pushBases, type Bases } from './corpus.js';
import { flattenImage } from './flatten.js';
import { readDirImage, readLayoutImage, type LoadedImage } from './image.js';

/**
 * Cases kiln cannot build yet, each with why. The test fails when one of these
 * starts passing (remove it here) or when a case not listed fails.
 */
const KNOWN_GAPS: Record<string, string> = {
  // Empty: the six gaps of the first full run (COPY --chown parents, hardlinks,
  // supplementary groups, WORKDIR under USER) were fixed in the builder.
};

/** Intentional differences between buildah and kiln (which follows Docker/BuildKit), each with its reason. */
const ALLOWANCES: Allowance[] = [
  {
    name: 'buildah version label',
    why: 'buildah stamps io.buildah.version on every image it commits; Docker and kiln add no label of their own',
    config: (c, side) => {
      if (side === 'buildah' && c.Labels) delete c.Labels['io.buildah.version'];
    },
  },
  {
    name: 'empty equals unset',
    why: 'buildah writes [] / {} / "" for config fields the Dockerfile never set (Cmd, Entrypoint…); Docker omits them; both mean "unset" to every runtime',
    config: (c) => {
      for (const k of ['Cmd', 'Entrypoint', 'OnBuild', 'Shell', 'ExposedPorts', 'Volumes', 'Env'] as const) if (c[k]?.length === 0) delete c[k];
      if (c.Labels && Object.keys(c.Labels).length === 0) delete c.Labels;
      for (const k of ['WorkingDir', 'User', 'StopSignal'] as const) if (c[k] === '') delete c[k];
    },
  },
  {
    name: 'healthcheck zero durations',
    why: 'a zero Interval/Timeout/StartPeriod/Retries means "the default"; one builder may write it, the other omit it',
    config: (c) => {
      if (c.Healthcheck) for (const [k, v] of Object.entries(c.Healthcheck)) if (v === 0) delete c.Healthcheck[k];
    },
  },
  {
    name: 'RUN mount placeholders',
    why: 'buildah (chroot isolation) creates empty /etc/hostname, /etc/hosts, /etc/resolv.conf and /run as mount points for RUN and commits them; BuildKit removes such stubs and so does kiln. Only empty ones are ignored: real content must match',
    fs: (trees) => {
      for (const t of Object.values(trees)) for (const p of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/run']) dropIfPlaceholder(t, p);
    },
  },
  {
    name: 'VOLUME directories',
    why: 'buildah creates each VOLUME path (and its parents) as empty directories when a later RUN executes; BuildKit (and kiln) leave the filesystem alone and the runtime creates them at run time',
    fs: (trees, configs) => {
      for (const v of configs.buildah.Volumes ?? []) dropOneSidedEmptyDirs(trees, 'buildah', v);
    },
  },
  {
    name: 'WORKDIR created at once',
    why: 'BuildKit (and kiln) create the WORKDIR directory at the WORKDIR step; buildah only when a later RUN or COPY needs it, so a final unused WORKDIR exists only in kiln',
    fs: (trees, configs) => {
      if (configs.kiln.WorkingDir) dropOneSidedEmptyDirs(trees, 'kiln', configs.kiln.WorkingDir);
    },
  },
  {
    name: 'WORKDIR owner under a later USER',
    why: 'for WORKDIR then USER, BuildKit (and kiln) create the directory at the WORKDIR step as the user of that moment (root); buildah creates it lazily at the next RUN, as the later USER',
    cases: ['run-env-user-workdir'],
    fs: (trees, configs) => {
      for (const p of withParents(configs.kiln.WorkingDir ?? '')) {
        const [k, b] = [trees.kiln.get(p), trees.buildah.get(p)];
        if (k && b && k.type === 'dir' && b.type === 'dir') trees.buildah.set(p, { ...b, uid: k.uid, gid: k.gid });
      }
    },
  },
  {
    name: 'RUN --mount stubs',
    why: 'buildah leaves the directories it made for RUN --mount targets (/mnt for /mnt/data, /var/cache for the cache mount); BuildKit removes the mount stubs it created, and so does kiln',
    cases: ['run-mounts', 'run-secret'],
    fs: (trees) => {
      for (const p of ['/mnt/data', '/var/cache/x', '/scratch', '/run/secrets/tok']) dropOneSidedEmptyDirs(trees, 'buildah', p);
    },
  },
  {
    name: '--label history',
    why: 'buildah records each --label of the command line as an extra LABEL history entry; Docker/BuildKit (and kiln) only add the labels to the config',
    cases: ['build-flags'],
    config: (c, side) => {
      if (side === 'buildah') c.historyCount -= 2; // the case's two --label flags
    },
  },
  {
    name: 'SHELL applies to shell-form CMD and ENTRYPOINT',
    why: 'Docker documents that SHELL sets the shell of the shell forms of RUN, CMD and ENTRYPOINT, and BuildKit (and kiln) do so; buildah 1.28 still writes /bin/sh -c for CMD and ENTRYPOINT',
    cases: ['shell'],
    config: (c, side) => {
      if (side !== 'buildah' || !c.Shell) return;
      for (const k of ['Cmd', 'Entrypoint'] as const) {
        const v = c[k];
        if (v?.length === 3 && v[0] === '/bin/sh' && v[1] === '-c') c[k] = [...c.Shell, v[2]!];
      }
    },
  },
];

const CONCURRENCY = 3;

let tmp: string;
let reg: TestRegistry;
let buildah: Buildah;
let kilnRoot: string;
/** Base image build args, by name; the Debian one is imported while the busybox cases run. */
let bases: Bases;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-oracle-'));
  reg = await startRegistry({});
  buildah = { root: path.join(tmp, 'buildah', 'root'), runroot: path.join(tmp, 'buildah', 'run') };
  kilnRoot = path.join(tmp, 'kiln');
  // Base images: imported and pushed by a separate kiln store, so both builders pull them.
  bases = await pushBases(reg, tmp);
});

after(async () => {
  await reg?.stop();
  if (buildah) {
    await run('buildah', [...buildahArgs(buildah), 'rm', '--all']);
    // buildah's overlay driver bind-mounts its layer directory onto itself; it outlives the command.
    await run('umount', [path.join(buildah.root, 'overlay')]);
  }
  if (tmp && !process.env.KILN_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

async function builtBy(image: LoadedImage, dir: string): Promise<Built> {
  return { config: summarize(image.config), tree: await flattenImage(image, dir) };
}

/** Builds one case both ways; resolves to the list of differences (empty = match), throws when buildah or kiln fails. */
async function runCase(name: string): Promise<{ diffs: string[]; timings: string }> {
  const { context, spec, buildArgs } = await prepareCase(name, path.join(tmp, 'ctx', name), bases);
  const req: BuildRequest = { name, context, buildArgs, target: spec.target, file: spec.file, labels: spec.labels, secrets: spec.secrets };
  const out = path.join(tmp, 'out', name);
  const ref = `${reg.host}/oracle/kiln-${name}:latest`;
  const t0 = Date.now();
  const secs = (t: number): string => `${((Date.now() - t) / 1000).toFixed(1)}s`;
  let buildahTime = '';
  let kilnTime = '';
  const [b, k] = await Promise.all([
    buildahBuild(buildah, req, path.join(out, 'buildah')).finally(() => (buildahTime = secs(t0))),
    kilnBuild(kilnRoot, req, ref).finally(() => (kilnTime = secs(t0))),
  ]);
  const t1 = Date.now();
  assert.equal(b.code, 0, `buildah failed on case ${name} (fix the corpus):\n${tail(b.output, 30)}`);
  // Both flattened at once: extraction and hashing wait on the disk more than on the CPU.
  const kPromise = k.code === 0 ? readLayoutImage(kilnRoot, ref).then((i) => builtBy(i, path.join(out, 'flat-kiln'))) : undefined;
  kPromise?.catch(() => undefined);
  const bImage = await builtBy(await readDirImage(path.join(out, 'buildah')), path.join(out, 'flat-buildah'));
  for (const p of spec.present ?? []) assert.ok(bImage.tree.has(p), `case ${name}: buildah's image lacks ${p} that case.json expects`);
  for (const p of spec.absent ?? []) assert.ok(!bImage.tree.has(p), `case ${name}: buildah's image has ${p} that case.json expects absent`);
  if (!kPromise) throw new Error(`kiln build failed (exit ${k.code}):\n${tail(k.output)}`);
  const kImage = await kPromise;
  rmSync(out, { recursive: true, force: true });
  const timings = `buildah ${buildahTime}, kiln ${kilnTime} (side by side), flatten both ${secs(t1)}`;
  return { diffs: compareBuilds(kImage, bImage, ALLOWANCES, name), timings };
}

test('the known-gaps table names only cases of the corpus', () => {
  assert.ok(caseNames.length >= 30, `the corpus has ${caseNames.length} cases, at least 30 expected`);
  for (const g of Object.keys(KNOWN_GAPS)) assert.ok(caseNames.includes(g), `KNOWN_GAPS lists ${g}, which is not a case`);
});

describe('buildah oracle', { concurrency: CONCURRENCY }, () => {
  for (const name of caseNames) {
    const gap = KNOWN_GAPS[name];
    test(gap ? `${name} (known gap: ${gap})` : name, { timeout: 480_000 }, async (t) => {
      let failure: string | undefined;
      try {
        const { diffs, timings } = await runCase(name);
        t.diagnostic(timings);
        if (diffs.length) failure = `kiln's image differs from buildah's:\n${diffs.slice(0, 40).join('\n')}${diffs.length > 40 ? `\n… ${diffs.length - 40} more` : ''}`;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e; // the corpus or buildah, not kiln
        failure = (e as Error).message;
      }
      if (gap) {
        assert.ok(failure, `case ${name} now passes: remove it from KNOWN_GAPS`);
        t.diagnostic(`still failing as expected: ${failure.split('\n').slice(0, 4).join(' | ')}`);
      } else {
        if (failure) assert.fail(`case ${name}: ${failure}`);
      }
    });
  }
});
