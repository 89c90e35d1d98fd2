import { openStore } from './index.js';
import { storeSuite } from './testsuite.js';
import { tempDir } from '../testing/store-fixture.js';

storeSuite('layout', async (t) => {
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  return store;
});
