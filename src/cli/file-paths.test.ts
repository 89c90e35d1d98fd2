/**
 * Every command that reads a file the user names, given a missing one, and
 * every command that writes one, given a path it cannot write (a missing
 * directory, a read-only filesystem, a directory): one line naming the path,
 * exit 1, never a Node stack trace; nothing half-written is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let root: string;
let ctx: string;
let ro: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-paths-'));
  root = path.join(tmp, 'root');
  ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=secret,id=s,required=true cat /run/secrets/s > /dev/null\n');
  ro = path.join(tmp, 'ro');
  mkdirSync(ro);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'busybox:latest'], { root });
});
after(() => {
  execFileSync('umount', [ro]);
  rmSync(tmp, { recursive: true, force: true });
});

async function oneLine(args: string[], mentions: string): Promise<void> {
  const r = await kiln(args, { root });
  assert.equal(r.code, 1, `kiln ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `kiln ${args.join(' ')}: ${r.stderr}`);
  assert.match(lines[0]!, /^kiln: /);
  assert.ok(lines[0]!.includes(mentions), `kiln ${args.join(' ')}: "${lines[0]}" does not name ${mentions}`);
}

test('a missing input file: one line naming it, exit 1', async () => {
  const missing = path.join(tmp, 'missing', 'file.tar');
  const secret = `id=s,src=${missing}`;
  const cases: string[][] = [
    ['load', '-i', missing],
    ['import', missing, 'x:1'],
    ['build', '-q', path.join(tmp, 'missing-context')],
    ['build', '-q', '-f', missing, ctx],
    ['build', '-q', '--secret', secret, ctx],
    ['debug', 'parse', missing],
    ['--host', 'tcp://127.0.0.1:9', '--tlscacert', missing, 'images'],
  ];
  for (const args of cases) await oneLine(args, args === cases[2] ? 'missing-context' : missing);
});

test('an output path that cannot be written (missing directory, read-only filesystem, a directory): one line naming it, exit 1, nothing left', async () => {
  const targets = [path.join(tmp, 'missing', 'dir', 'out'), path.join(ro, 'out'), ctx];
  for (const out of targets) {
    const cases: string[][] = [
      ['save', '-o', out, 'busybox'],
      ['save', '--format', 'oci', '-o', out, 'busybox'],
      ['build', '-q', '--iidfile', out, '-'],
      ['build', '-q', '--metadata-file', out, '-'],
      ['build', '-q', '-o', `type=oci,dest=${out}`, '-'],
      ['build', '-q', '-o', `type=docker,dest=${out}`, '-'],
    ];
    // These two make missing directories (as docker does): only the read-only one fails.
    if (out.startsWith(ro)) cases.push(['build', '-q', '-o', `type=local,dest=${out}`, '-'], ['agent', 'certs', '--dir', out]);
    for (const args of cases) {
      const r = await kiln(args, { root, input: args.includes('-') ? 'FROM busybox\nENV X=1\n' : '' });
      assert.equal(r.code, 1, `kiln ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `kiln ${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0]!, /^kiln: /);
      assert.ok(lines[0]!.includes(out), `kiln ${args.join(' ')}: "${lines[0]}" does not name ${out}`);
    }
  }
  assert.deepEqual(readdirSync(tmp).sort(), ['ctx', 'ro', 'root']);
  assert.deepEqual(readdirSync(ctx), ['Dockerfile']);
  assert.equal((await kiln(['system', 'check'], { root })).code, 0);
});
