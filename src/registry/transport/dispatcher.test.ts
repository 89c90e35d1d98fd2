import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatchers } from './dispatcher.js';

test("a registries.yaml TLS file that is not there: one line naming it and the host's config", async () => {
  const d = new Dispatchers();
  const timeouts = { connectMs: 1000, headersMs: 1000, readMs: 1000 };
  assert.throws(() => d.get('reg.example:5000', { ca_file: '/nonexistent/ca.pem' }, false, timeouts), {
    code: 'INVALID_ARGUMENT',
    message: 'registries.yaml: ca_file /nonexistent/ca.pem for reg.example:5000 does not exist',
    hint: 'fix configs."reg.example:5000".tls',
  });
  await d.close();
});
