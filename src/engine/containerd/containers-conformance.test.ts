import { containerConformance } from '../containers/conformance.js';
import { containerdContainerFixture } from '../../testing/containerd-container-fixture.js';

containerConformance({ backend: 'containerd', fixture: containerdContainerFixture, missing: ['top', 'stats', 'cp', 'diff', 'export'] });
