import { engineConformance } from '../conformance.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { openLocalEngine } from './engine.js';

let root = '';
engineConformance({
  backend: 'local',
  async open() {
    root = await tempDir('kiln-conf-local-');
    return openLocalEngine(root);
  },
  cleanup: () => removeDir(root),
});
