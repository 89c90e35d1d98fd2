import { engineConformance } from '../conformance.js';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { openContainerdEngine } from './engine.js';

let ctd: TestContainerd | undefined;
engineConformance({
  backend: 'containerd',
  async open() {
    ctd = await startContainerd();
    return openContainerdEngine({ address: ctd.address });
  },
  cleanup: async () => ctd?.stop(),
});
