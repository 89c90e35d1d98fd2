import { containerConformance } from '../containers/conformance.js';
import { containerdContainerFixture } from '../../testing/containerd-container-fixture.js';

containerConformance({ backend: 'containerd', fixture: containerdContainerFixture, missing: ['tty', 'stdin', 'top', 'stats', 'cp', 'diff', 'export'] });
