import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, goString } from './template.js';

const image = {
  Id: 'sha256:abc',
  RepoTags: ['app:1', 'app:2'],
  Config: { Env: ['PATH=/bin', 'A=b'], Labels: { z: '1', a: '2' }, Cmd: null, WorkingDir: '' },
  Size: 1234,
};
const r = (t: string, v: unknown = image) => compileTemplate(t)(v);

test('fields, nested fields, dot, and Go value printing', () => {
  assert.equal(r('{{.Id}}'), 'sha256:abc');
  assert.equal(r('{{.Config.Env}}'), '[PATH=/bin A=b]');
  assert.equal(r('{{.Config.Labels}}'), 'map[a:2 z:1]');
  assert.equal(r('{{.Config.Cmd}}'), '<nil>');
  assert.equal(r('{{.Nope}}|{{.Config.Nope.Deeper}}'), '<no value>|<no value>');
  assert.equal(r('{{.}}', 'plain'), 'plain');
  assert.equal(r('id={{.Id}}\\tsize={{.Size}}'), 'id=sha256:abc\tsize=1234');
  assert.equal(goString({ b: [1, 2], a: true }), 'map[a:true b:[1 2]]');
});

test('functions and pipelines docker users write', () => {
  assert.equal(r('{{json .Config.Labels}}'), '{"z":"1","a":"2"}');
  assert.equal(r('{{join .RepoTags ","}}'), 'app:1,app:2');
  assert.equal(r('{{index .Config.Labels "z"}}'), '1');
  assert.equal(r('{{len .RepoTags}}'), '2');
  assert.equal(r('{{.Id | upper}}'), 'SHA256:ABC');
  assert.equal(r('{{printf "%-6s|%5d" "ab" .Size}}'), 'ab    | 1234');
  assert.equal(r('{{truncate .Id 6}}'), 'sha256');
  assert.equal(r('{{(index .RepoTags 1) | upper}}'), 'APP:2');
  assert.equal(r('{{split "a:b" ":"}}'), '[a b]');
});

test('range, if/else, with, trim markers, comments', () => {
  assert.equal(r('{{range .Config.Env}}<{{.}}>{{end}}'), '<PATH=/bin><A=b>');
  assert.equal(r('{{range .Nope}}x{{else}}none{{end}}'), 'none');
  assert.equal(r('{{if .Config.WorkingDir}}set{{else}}unset{{end}}'), 'unset');
  assert.equal(r('{{if eq .Size 1234}}big{{end}}'), 'big');
  assert.equal(r('{{with .Config}}{{.Env}}{{end}}'), '[PATH=/bin A=b]');
  assert.equal(r('a  {{- /* gone */ -}}  b'), 'ab');
  assert.equal(r('{{range $.RepoTags}}{{$.Id}} {{.}};{{end}}'), 'sha256:abc app:1;sha256:abc app:2;');
});

test('bad templates are one INVALID_ARGUMENT line naming the template', () => {
  for (const [t, why] of [
    ['{{.Id', /unclosed action/],
    ['{{range .RepoTags}}x', /missing \{\{end\}\}/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{nosuch .Id}}', /function "nosuch" not defined/],
    ['{{"abc}}', /unterminated string/],
  ] as const) {
    assert.throws(() => r(t), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && why.test(e.message) && e.message.includes(JSON.stringify(t)) && !e.message.includes('\n'));
  }
});
