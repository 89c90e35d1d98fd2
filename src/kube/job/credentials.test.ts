import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationHosts, jobCredentials } from './credentials.js';

test("only the destinations' registries get credentials, in docker config form", async () => {
  const asked: string[] = [];
  const store = {
    get: async (host: string) => {
      asked.push(host);
      if (host === 'reg.example:5000') return { username: 'ci', password: 'pw' };
      if (host === 'docker.io') return { identitytoken: 'tok' };
      return undefined;
    },
  };
  const c = await jobCredentials(['reg.example:5000/a:1', 'reg.example:5000/b', 'busybox', 'other.example/x'], store);
  assert.deepEqual(asked, ['reg.example:5000', 'docker.io', 'other.example']);
  assert.deepEqual(c.hosts, ['reg.example:5000', 'docker.io']);
  assert.deepEqual(JSON.parse(c.json), { auths: { 'reg.example:5000': { auth: Buffer.from('ci:pw').toString('base64') }, 'https://index.docker.io/v1/': { identitytoken: 'tok' } } });
  assert.deepEqual(destinationHosts(['a.example/x', 'a.example/y:2']), ['a.example']);
});
