import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseDockerfile } from './parse.js';
import { dump } from './dump.js';
import { planBuild } from '../stages/plan.js';
import { conformanceDir } from '../../testing/buildkit-conformance.js';
import { isDockerfileError } from '../located-error.js';

/** mulberry32: a small seeded PRNG so every run mutates the same way. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPICE = ['\\', '`', '"', "'", '$', '{', '}', '[', ']', '<<', '<<-EOF', '\n', '\r\n', '#', '--', '=', ' ', '\t', 'EOF', 'FROM ', 'ONBUILD ', '# escape=`\n', '\uFEFF', '\u0000', '\u00e9'];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let o = 0; o < ops; o++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: {
        // duplicate a slice
        const len = Math.floor(rnd() * 200);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 3: // insert a token that matters to the grammar
        b = Buffer.concat([b.subarray(0, at), Buffer.from(SPICE[Math.floor(rnd() * SPICE.length)]), b.subarray(at)]);
        break;
      default: // delete a slice
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(rnd() * 20))]);
    }
  }
  return b;
}

function corpus(): Buffer[] {
  const dir = path.join(conformanceDir(), 'parser');
  const out: Buffer[] = [];
  for (const sub of ['testfiles', 'testfiles-negative']) {
    for (const c of fs.readdirSync(path.join(dir, sub)).sort()) out.push(fs.readFileSync(path.join(dir, sub, c, 'Dockerfile')));
  }
  out.push(Buffer.from('ARG V=1\nFROM a:$V AS b\nRUN --mount=type=cache,target=/c <<EOF\nx\nEOF\nFROM b\nCOPY --from=b <<-X /f\n\ty\n\tX\n'));
  return out;
}

test('fuzz: 12,000 mutated Dockerfiles only ever fail with a located error', () => {
  const rnd = prng(0x5eed);
  const seeds = corpus();
  const cases = 12000;
  let accepted = 0;
  let rejected = 0;
  let worst = 0;
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const text = mutate(seeds[i % seeds.length], rnd).toString('utf8');
    const t = performance.now();
    try {
      dump(parseDockerfile(text));
      planBuild(text);
      accepted++;
    } catch (e) {
      if (!isDockerfileError(e)) {
        assert.fail(`case ${i} threw ${String(e)}\ninput: ${JSON.stringify(text.slice(0, 2000))}`);
      }
      assert.match(e.message, /^Dockerfile:\d+(:\d+)?: /);
      rejected++;
    }
    worst = Math.max(worst, performance.now() - t);
  }
  const per = (performance.now() - t0) / cases;
  console.log(`fuzz: ${cases} cases (${accepted} accepted, ${rejected} rejected), ${(per * 1000).toFixed(1)} µs per case, worst ${worst.toFixed(1)} ms`);
  assert.ok(accepted > 1000 && rejected > 1000, 'the mutations exercise both outcomes');
  assert.ok(worst < 2000, `a case took ${worst} ms`);
});

function timed<T>(what: string, f: () => T): T {
  const t = performance.now();
  const r = f();
  const ms = performance.now() - t;
  console.log(`${what}: ${ms.toFixed(0)} ms`);
  assert.ok(ms < 3000, `${what} took ${ms} ms`);
  return r;
}

test('pathological inputs finish in linear time', () => {
  const cont = 'FROM a\nRUN echo \\\n' + 'x \\\n'.repeat(100_000) + 'end\n';
  const r1 = timed('100,000 continuation lines', () => parseDockerfile(cont));
  assert.equal(r1.nodes[1].endLine, 100_003);
  const long = 'FROM a\nRUN ' + 'a'.repeat(10 * 1024 * 1024) + '\n';
  const r2 = timed('10 MB line', () => parseDockerfile(long));
  assert.equal(r2.nodes[1].args[0].length, 10 * 1024 * 1024);
  const longWords = 'FROM a\nRUN <<EOF ' + 'ab "c d" '.repeat(384 * 1024) + '\nbody\nEOF\n';
  const r3 = timed('3.4 MB heredoc line of 786,432 words', () => parseDockerfile(longWords));
  assert.equal(r3.nodes[1].heredocs[0].content, 'body\n');
  const env = 'FROM a\nENV ' + 'K="v v" '.repeat(200_000) + '\n';
  timed('ENV with 200,000 pairs', () => parseDockerfile(env));
  const comments = 'FROM a\nRUN x \\\n' + '# c\n\n'.repeat(100_000) + 'y\n';
  timed('100,000 comments inside a continuation', () => parseDockerfile(comments));
  const nested = 'FROM a\nRUN <<EOF ' + '${a:-'.repeat(50_000) + '\nEOF\n';
  timed('50,000 nested ${ in a heredoc line', () => parseDockerfile(nested));
});
