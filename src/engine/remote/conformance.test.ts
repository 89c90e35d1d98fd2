import { engineConformance } from '../conformance.js';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { openRemoteEngine } from './engine.js';

// The agent is a real `kiln agent` child process serving its local engine over TCP with mutual TLS on loopback.
let agent: TestAgent | undefined;
engineConformance({
  backend: 'remote',
  async open() {
    agent = await startAgent();
    return openRemoteEngine({ host: agent.tcp!, tls: agent.tlsFiles });
  },
  cleanup: async () => agent?.stop(),
});
