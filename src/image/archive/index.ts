/** Image archives: `docker save`/`docker load` compatible tars and OCI layout archives. */
export { saveArchive, type SaveItem, type SaveOptions, type DockerManifestEntry } from './save.js';
export { loadArchive, type LoadedImage } from './load.js';
