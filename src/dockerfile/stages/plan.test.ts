import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild } from './plan.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm = { os: 'linux', architecture: 'arm', variant: 'v7' };

const multi = `
ARG GO=1.22
ARG BASE
FROM --platform=$BUILDPLATFORM golang:\${GO} AS Build
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/app .

FROM alpine:3.20 AS unused
RUN echo never

FROM build AS test
RUN --mount=type=cache,target=/root/.cache,from=tools go test ./...

FROM busybox:1.36 AS tools

FROM \${BASE:-debian:12}
COPY --from=build /out/app /app
COPY --from=0 /out/app /app2
COPY --from=docker.io/library/nginx:1 /etc/nginx /etc/nginx
`;

test('stages in dependency order, pruned to what the target needs', () => {
  const plan = planBuild(multi, { platform: arm, buildPlatform: amd64, buildArgs: { GO: '1.23', NOPE: 'x' } });
  assert.equal(plan.stageCount, 5);
  assert.deepEqual(plan.stages.map((s) => s.name ?? s.index), ['build', 4]);
  assert.deepEqual(plan.target.base, { kind: 'image', ref: 'debian:12' });
  assert.deepEqual(plan.target.dependsOn, [0]);
  assert.deepEqual(plan.target.images, ['docker.io/library/nginx:1']);
  const build = plan.stages[0];
  assert.deepEqual(build.base, { kind: 'image', ref: 'golang:1.23' });
  assert.deepEqual(build.platform, amd64);
  assert.equal(build.from.loc.startLine, 4);
  assert.deepEqual(build.instructions.map((i) => [i.kind, i.loc.startLine]), [['arg', 5], ['run', 6]]);
  assert.deepEqual(plan.metaArgs, [{ key: 'GO', value: '1.23' }, { key: 'BASE', value: undefined }]);
  assert.equal(plan.predefinedArgs.TARGETPLATFORM, 'linux/arm/v7');
  assert.equal(plan.predefinedArgs.TARGETVARIANT, 'v7');
  assert.equal(plan.predefinedArgs.BUILDARCH, 'amd64');
  assert.deepEqual(plan.unusedBuildArgs, ['NOPE']);
});

test('--target by name (case-insensitive) follows FROM stage and --mount from=', () => {
  const plan = planBuild(multi, { target: 'TEST', buildPlatform: amd64 });
  assert.deepEqual(plan.stages.map((s) => s.name), ['build', 'tools', 'test']);
  assert.deepEqual(plan.target.base, { kind: 'stage', index: 0 });
  assert.deepEqual(plan.target.dependsOn.sort(), [0, 3]);
  assert.throws(() => planBuild(multi, { target: 'tets' }), { message: 'Dockerfile: target stage "tets" could not be found (did you mean test?)' });
});

test('global ARGs re-declared in a stage feed COPY --from', () => {
  const plan = planBuild('ARG SRC=one\nFROM a AS one\nFROM b AS two\nFROM c\nARG SRC\nCOPY --from=$SRC / /\n', { buildArgs: { SRC: 'two' } });
  assert.deepEqual(plan.stages.map((s) => s.name ?? s.index), ['two', 2]);
});

test('errors: unknown stage, undeclared ARG in FROM, cycles, duplicates, blank base', () => {
  assert.throws(() => planBuild('FROM a AS builder\nFROM b\nCOPY --from=buildr /x /x\n'), {
    message: 'Dockerfile:3:6: COPY --from=buildr: no stage named "buildr" (did you mean builder?): `COPY --from=buildr /x /x`',
  });
  assert.throws(() => planBuild('FROM a\nCOPY --from=3 /x /x\n'), { message: /^Dockerfile:2:6: COPY --from=3: there is no stage 3/ });
  assert.throws(() => planBuild('ARG VERSION=1\nFROM alpine:$VERSOIN\n', { filename: 'app/Dockerfile' }), {
    message: 'app/Dockerfile:2:13: FROM uses $VERSOIN, but no ARG VERSOIN is declared before the first FROM (did you mean VERSION?): `FROM alpine:$VERSOIN`',
  });
  assert.equal(planBuild('FROM alpine:${V:-3}\n').target.base.kind, 'image');
  assert.throws(() => planBuild('FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n'), { message: /^Dockerfile:3: circular dependency between stages: y → x → y: `FROM b AS y`/ });
  assert.throws(() => planBuild('FROM a AS x\nRUN --mount=from=x,target=/m true\n'), { message: /a stage cannot read from itself/ });
  assert.throws(() => planBuild('FROM a AS x\nFROM b AS X\n'), { message: /^Dockerfile:2: duplicate stage name "x"/ });
  assert.throws(() => planBuild('ARG B\nFROM $B\n'), { message: /^Dockerfile:2: base name \(\$B\) should not be blank/ });
  assert.throws(() => planBuild('RUN x\nFROM a\n'), { message: /^Dockerfile:1: RUN before the first FROM: only ARG may come before FROM/ });
  assert.throws(() => planBuild('FROM --platform=linux a\n'), { message: /invalid --platform=linux/ });
  assert.throws(() => planBuild('ARG X=1\n'), { message: /no FROM instruction/ });
  assert.throws(() => planBuild('FROM UPPER/Case\n'), { message: /^Dockerfile:1: invalid image reference "UPPER\/Case"/ });
});

test('FROM refers to earlier stages by name; predefined ARGs work in FROM', () => {
  const plan = planBuild('FROM --platform=$TARGETPLATFORM busybox AS base\nFROM BASE\nRUN true\n', { platform: arm });
  assert.deepEqual(plan.target.base, { kind: 'stage', index: 0 });
  assert.deepEqual(plan.stages[0].platform, arm);
});

test('a global ARG TARGETARCH without a default takes the automatic value (BuildKit); a build arg or a default wins', () => {
  const plan = planBuild('ARG TARGETARCH\nARG BUILDARCH=riscv64\nFROM base-${TARGETARCH}-${BUILDARCH}\n', { platform: arm });
  assert.deepEqual(plan.target.base, { kind: 'image', ref: 'base-arm-riscv64' });
  const given = planBuild('ARG TARGETARCH\nFROM base-${TARGETARCH}\n', { platform: arm, buildArgs: { TARGETARCH: 'mine' } });
  assert.deepEqual(given.target.base, { kind: 'image', ref: 'base-mine' });
  const other = planBuild('ARG NOTSET\nFROM base${NOTSET}\n', { platform: arm });
  assert.deepEqual(other.target.base, { kind: 'image', ref: 'base' });
});

function bigDockerfile(instructions: number): string {
  const lines = ['# syntax=docker/dockerfile:1', 'ARG BASE=debian:12', 'FROM $BASE AS build'];
  for (let i = 0; lines.length < instructions; i++) {
    const k = i % 10;
    if (k === 0) lines.push(`FROM build AS s${i}`);
    else if (k === 1) lines.push(`RUN --mount=type=cache,target=/c${i} echo ${i} \\\n  && make -j2 target${i}`);
    else if (k === 2) lines.push(`COPY --from=build --chown=1:1 src${i} /dst/${i}/`);
    else if (k === 3) lines.push(`ENV K${i}=v${i} L${i}="x y"`);
    else if (k === 4) lines.push(`LABEL org.example.n${i}="${i}"`);
    else if (k === 5) lines.push(`ARG A${i}=${i}`);
    else if (k === 6) lines.push(`WORKDIR /w/${i}`);
    else if (k === 7) lines.push(`EXPOSE ${1000 + i}/tcp`);
    else if (k === 8) lines.push(`HEALTHCHECK --interval=5s CMD ["/check", "${i}"]`);
    else lines.push(`CMD ["/app", "${i}"]`);
  }
  return lines.join('\n') + '\n';
}

test('performance: parsing and planning a 1,000-instruction Dockerfile', () => {
  const text = bigDockerfile(1000);
  planBuild(text); // warm up the JIT once, as a long-running process would be
  const runs = 100;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) planBuild(text, { target: 's990' });
  const ms = (performance.now() - t0) / runs;
  const cold = (() => {
    const t = performance.now();
    planBuild(bigDockerfile(1001));
    return performance.now() - t;
  })();
  console.log(`1,000-instruction Dockerfile: parse+plan ${ms.toFixed(2)} ms (mean of ${runs}), ${cold.toFixed(2)} ms for a new text`);
  assert.ok(ms < 500, `took ${ms} ms`);
  assert.equal(planBuild(text).stageCount, 101);
});
