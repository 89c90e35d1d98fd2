/** The distribution (registry) client: what other layers import. */
export { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './client.js';
export type { Action, PushBlobOptions, Repository } from './repository.js';
export type { AuthConfig, CredentialStore } from './transport/auth.js';
export { DockerConfigCredentials, dockerConfigFile, credentialKey } from './credentials.js';
export { loadRegistriesConfig, parseRegistriesConfig, type RegistriesConfig } from './registries.js';
export { login, logout, normalizeServer, type LoginResult } from './login.js';
export type { RetryOptions } from './transport/retry.js';
export { isLoopback, apiHost } from './endpoints.js';
export { RegistryError, type RegistryErrorEntry } from './transport/errors.js';
