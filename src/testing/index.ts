/** Test harness: real registries on loopback, temp dirs, free ports, test content. */
export { startRegistry, DEFAULT_USERS, type StartRegistryOptions, type TestRegistry } from './registry.js';
export { startTokenServer, type TokenServer, type TokenServerOptions } from './tokenserver.js';
export { tempDir, removeDir, withTempDir } from './tempdir.js';
export { freePort } from './ports.js';
export { repoRoot } from './root.js';
export { makeCA, makeServerCert, makeSigningCert, type CertFiles } from './pki.js';
export { blobOf, imageOfLayer, randomBlob, streamOf, readAll, tinyImage, type TestBlob, type TestImage } from './blobs.js';
export { startContainerd, type TestContainerd } from './containerd.js';
export { criImageService, type CriImage, type CriImageService } from './cri.js';
export { startAgent, type StartAgentOptions, type TestAgent } from './agent.js';
export { hostileRegistry, startHostileRegistry, type HostileOptions, type HostileRegistry } from './hostile.js';
export { startCluster, stopCluster, PAUSE_IMAGE, type TestCluster, type StartClusterOptions } from './kube/cluster.js';
