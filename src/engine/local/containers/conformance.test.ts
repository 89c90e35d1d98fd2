import { containerConformance } from '../../containers/conformance.js';
import { containerFixture } from '../../../testing/container-fixture.js';

containerConformance({ backend: 'local', fixture: containerFixture, missing: [] });
