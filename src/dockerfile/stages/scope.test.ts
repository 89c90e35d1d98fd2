import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild } from './plan.js';
import { StageScope } from './scope.js';
import { expandInstruction } from '../instructions/expand.js';

test('stage scope: ARG visibility, build-arg over default, ENV over ARG, proxies only in RUN', () => {
  const text = [
    'ARG VERSION=1.0',
    'FROM busybox',
    'ARG VERSION',
    'ARG TARGETARCH',
    'ARG MODE=debug',
    'ARG HIDDEN',
    'ENV MODE=release DIR=/opt/$VERSION',
    'WORKDIR $DIR/$TARGETARCH/$MODE',
  ].join('\n');
  const plan = planBuild(text, {
    buildArgs: { VERSION: '2.0', HTTP_PROXY: 'http://proxy:3128' },
    platform: { os: 'linux', architecture: 'arm64' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
  });
  const scope = new StageScope(plan, ['PATH=/bin', 'MODE=image']);
  let workdir = '';
  for (const raw of plan.target.instructions) {
    const inst = expandInstruction(raw, scope.get);
    if (inst.kind === 'arg') scope.declare(inst);
    if (inst.kind === 'env') scope.setEnv(inst);
    if (inst.kind === 'workdir') workdir = inst.path;
  }
  assert.equal(workdir, '/opt/2.0/arm64/release');
  assert.deepEqual(scope.configEnv(), ['PATH=/bin', 'MODE=release', 'DIR=/opt/2.0']);
  assert.deepEqual(scope.runEnv(), ['PATH=/bin', 'MODE=release', 'DIR=/opt/2.0', 'VERSION=2.0', 'TARGETARCH=arm64', 'HTTP_PROXY=http://proxy:3128']);
});

test('an ARG is not visible before its declaration in the stage', () => {
  const plan = planBuild('ARG V=1\nFROM a\nWORKDIR /$V\nARG V\nWORKDIR /$V\n');
  const scope = new StageScope(plan);
  const dirs: string[] = [];
  for (const raw of plan.target.instructions) {
    const inst = expandInstruction(raw, scope.get);
    if (inst.kind === 'arg') scope.declare(inst);
    if (inst.kind === 'workdir') dirs.push(inst.path);
  }
  assert.deepEqual(dirs, ['/', '/1']);
});

test('word syntax errors are reported at plan time with their line', () => {
  assert.throws(() => planBuild('FROM a\nRUN ok\nENV A="unterminated\n'), {
    message: 'Dockerfile:3: unexpected end of statement while looking for matching double-quote: `ENV A="unterminated`',
  });
  assert.throws(() => planBuild('FROM a\nWORKDIR ${X:=1}\n'), { message: /^Dockerfile:2: unsupported modifier \(:=\)/ });
  assert.throws(() => planBuild("FROM a\nCOPY 'a b /c\n"), { message: /^Dockerfile:2: unexpected end of statement while looking for matching single-quote/ });
});
