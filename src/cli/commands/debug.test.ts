import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot, conformanceDir } from '../../testing/buildkit-conformance.js';

const kiln = (args: string[], input?: string) =>
  spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli', 'main.js'), ...args], { input, encoding: 'utf8' });

test('kiln debug parse prints the BuildKit dump of a file and of stdin', () => {
  const dir = path.join(conformanceDir(), 'parser', 'testfiles', 'health');
  const r = kiln(['debug', 'parse', path.join(dir, 'Dockerfile')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\(from "debian"\)\n\(add "check.sh" "main.sh" "\/app\/"\)\n/);
  const s = kiln(['debug', 'parse', '-'], 'FROM a\nCOPY --chown=1:1 x /y\n');
  assert.equal(s.stdout, '(from "a")\n(copy ["--chown=1:1"] "x" "/y")\n');
});

test('kiln debug parse fails with one located line and exit 1', () => {
  const r = kiln(['debug', 'parse', '-'], 'FROM a\nRUN <<EOF\n');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^kiln: Dockerfile:2: unterminated heredoc: no line "EOF" closes it: `RUN <<EOF` \(.*\)\n$/);
});

test('kiln debug expand prints the expansion or one error line', () => {
  const ok = kiln(['debug', 'expand', '--env', 'A=x', '--env', 'B=y z', '${A:-no}-"$B"-${C:-dflt}']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'x-y z-dflt\n');
  const words = kiln(['debug', 'expand', '--words', '--env', 'P=80 443', '$P/tcp']);
  assert.equal(words.stdout, '80\n443/tcp\n');
  const bad = kiln(['debug', 'expand', '${A:?must be set}']);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.split('\n').length, 2);
  assert.match(bad.stderr, /^kiln: cannot expand "\$\{A:\?must be set\}": A: must be set/);
});

test('kiln debug plan lists the needed stages in order; json has the whole plan', () => {
  const df = 'ARG V=3\nFROM busybox:$V AS base\nRUN true\nFROM golang AS build\nCOPY --from=base / /\nFROM alpine AS unused\nFROM scratch\nCOPY --from=build /out /\n';
  const r = kiln(['debug', 'plan', '-', '--build-arg', 'V=4'], df);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows.map((c) => c[0]), ['STAGE', '0', '1', '3']);
  assert.match(r.stdout, /busybox:4/);
  const j = kiln(['debug', 'plan', '-', '--target', 'BUILD', '--format', 'json', '--platform', 'linux/arm64'], df);
  const plan = JSON.parse(j.stdout);
  assert.deepEqual(plan.stages.map((s: { name: string }) => s.name), ['base', 'build']);
  assert.equal(plan.predefinedArgs.TARGETPLATFORM, 'linux/arm64');
  const bad = kiln(['debug', 'plan', '-'], 'FROM a\nCOPY --from=nope / /\n');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^kiln: Dockerfile:2:6: COPY --from=nope: no stage named "nope"/);
  const missing = kiln(['debug', 'parse', '/nonexistent/Dockerfile']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^kiln: Dockerfile \/nonexistent\/Dockerfile: no such file/);
});
