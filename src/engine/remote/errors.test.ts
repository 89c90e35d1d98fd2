import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { fromStatus } from './errors.js';

const grpcError = (code: status, details: string): ServiceError => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });

test('a call an older agent does not know: one line saying the agent is older, and how to update it', () => {
  const e = fromStatus(grpcError(status.UNIMPLEMENTED, 'The server does not implement the method /kiln.agent.v1.Engine/Pin'), 'unix:///run/kiln.sock', 'pin demo:dev', 'none');
  assert.equal(e.code, 'UNIMPLEMENTED');
  assert.equal(e.message, "kiln agent at unix:///run/kiln.sock: pin demo:dev: this agent's kiln is older than the client's and does not know the call");
  assert.match(e.hint ?? '', /kiln install --force/);
});

test('a kiln error the agent sent keeps its code, message and hint', () => {
  const err = grpcError(status.NOT_FOUND, 'no such image: x:1');
  err.metadata.set('kiln-code', 'NOT_FOUND');
  err.metadata.set('kiln-hint', 'pull it first');
  const e = fromStatus(err, 'tcp://n:2376', 'inspect x:1', 'cert');
  assert.deepEqual([e.code, e.message, e.hint], ['NOT_FOUND', 'no such image: x:1', 'pull it first']);
});
