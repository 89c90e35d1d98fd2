import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDockerfile, formatCheckReport, parseCheckDirective, warningLine } from './checks.js';

const lines = (text: string) => checkDockerfile(text).warnings.map(warningLine);

test("build checks: BuildKit's rule names and messages, at the instruction's line", () => {
  assert.deepEqual(lines('FROM busybox as build\nRUN true\nCMD echo hi\nENTRYPOINT ["x"]\nfrom build AS final\nentrypoint x y\n'), [
    "FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)",
    'JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)',
    "FromAsCasing: 'AS' and 'from' keywords' casing do not match (line 5)",
    'JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals (line 6)',
  ]);
  assert.deepEqual(lines('FROM a AS b\nfrom b as c\nCMD ["x"]\n'), [], 'matching casing and exec form are fine');
  assert.deepEqual(lines('FROM a AS b\nSHELL ["/bin/bash", "-c"]\nFROM b\nCMD echo hi\n'), [], 'a custom SHELL (here inherited from a stage) is not warned about');
  assert.deepEqual(lines('FROM a\nMAINTAINER me\nRUN echo a \\\n\n  b\n'), [
    'MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)',
    'NoEmptyContinuation: Empty continuation line (line 3)',
  ]);
});

test('# check= directive: skip some rules or all, error=true', () => {
  assert.deepEqual(lines('# check=skip=FromAsCasing\nFROM a as b\nCMD x\n'), ['JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 3)']);
  assert.deepEqual(lines('# check=skip=all\nFROM a as b\nCMD x\n'), []);
  assert.equal(checkDockerfile('# check=error=true\nFROM a as b\n').error, true);
  assert.deepEqual(parseCheckDirective('skip=A,B;error=true'), { skip: new Set(['A', 'B']), error: true });
});

test("--check's report is laid out as buildx's", () => {
  assert.equal(formatCheckReport(checkDockerfile('FROM a AS b\n'), 'Dockerfile'), 'Check complete, no warnings found.\n');
  assert.equal(
    formatCheckReport(checkDockerfile('FROM a as b\n'), 'Dockerfile'),
    "Check complete, 1 warning has been found!\n\nWARN: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/\n'as' and 'FROM' keywords' casing do not match\nDockerfile:1\n--------------------\n   1 | >>> FROM a as b\n--------------------\n",
  );
});
