import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../parser/parse.js';
import { buildInstruction } from './build.js';
import { runScript } from './run-script.js';
import type { RunInstruction } from './types.js';

const run = (text: string) => buildInstruction(parseDockerfile(text).nodes[0]) as RunInstruction;

test('RUN <<EOF runs the body; a shebang body runs as a file', () => {
  assert.deepEqual(runScript(run('RUN <<EOF\napt-get update\napt-get install -y x\nEOF\n')), {
    script: 'apt-get update\napt-get install -y x\n',
    shebang: false,
  });
  assert.deepEqual(runScript(run('RUN <<"PY"\n#!/usr/bin/env python3\nprint(1)\nPY\n')), { script: '#!/usr/bin/env python3\nprint(1)\n', shebang: true });
});

test('other heredoc forms become one shell script with the documents re-attached', () => {
  assert.deepEqual(runScript(run('RUN cat <<A > /a && cat <<-B > /b\none\nA\n\ttwo\n\tB\n')), {
    script: 'cat <<A > /a && cat <<-B > /b\none\nA\ntwo\nB\n',
    shebang: false,
  });
  assert.equal(runScript(run('RUN echo hi')), undefined);
  assert.equal(runScript(run('RUN ["echo", "<<EOF"]')), undefined);
});
