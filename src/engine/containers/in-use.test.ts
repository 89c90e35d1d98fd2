import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseImagesInUse } from './in-use.js';

const ID = 'sha256:' + 'ab'.repeat(32);
const inUse = new Map([[ID, ['web']]]);
const image = (names: string[]) => async () => ({ ids: [ID], names });

test('rmi of an image a container uses: refused by ID or by its last tag; a name beside another tag only untags, as docker', async () => {
  const two = image(['docker.io/library/app:1', 'docker.io/library/app:2']);
  await refuseImagesInUse(['app:1'], inUse, two);
  await refuseImagesInUse(['docker.io/library/app:2'], inUse, two);
  await assert.rejects(refuseImagesInUse([ID.slice(7, 19)], inUse, two), {
    code: 'FAILED_PRECONDITION',
    message: `conflict: unable to remove image ${ID.slice(7, 19)} (${ID.slice(7, 19)}): container web is using it`,
    hint: 'remove the container first with kiln rm web, or use kiln rmi -f',
  });
  await assert.rejects(refuseImagesInUse(['app:1'], inUse, image(['docker.io/library/app:1'])), { message: /^conflict: unable to remove image app:1 \(abababababab\): container web is using it$/ });
  // Both tags in one command: the second is then the image's last, as docker finds it.
  await assert.rejects(refuseImagesInUse(['app:1', 'app:2'], inUse, two), { message: /^conflict: unable to remove image app:2 \(abababababab\): container web is using it$/ });
  // A digest reference is not another tag: the tag is the image's last.
  await assert.rejects(refuseImagesInUse(['app:1'], inUse, image(['docker.io/library/app:1', `docker.io/library/app@${'sha256:' + 'cd'.repeat(32)}`])), { code: 'FAILED_PRECONDITION' });
});
