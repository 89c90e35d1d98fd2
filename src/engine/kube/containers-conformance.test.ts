import { containerConformance } from '../containers/conformance.js';
import { kubeContainerFixture } from '../../testing/kube-container-fixture.js';

containerConformance({
  backend: 'kube',
  fixture: kubeContainerFixture,
  missing: ['network-none', 'pids-limit', 'create', 'rerun', 'rename', 'volumes', 'top', 'stats', 'cp', 'diff', 'export', 'commit'],
  differs: ['merged-output', 'pod-network', 'stop-grace'],
});
