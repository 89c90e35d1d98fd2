/** The distribution (registry) client: what other layers import. */
export { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './client.js';
export type { Action, PushBlobOptions, Repository } from './repository.js';
export type { AuthConfig, CredentialStore } from './transport/auth.js';
export { DockerConfigCredentials, dockerConfigFile, credentialKey } from './credentials.js';
export { loadRegistriesConfig, parseRegistriesConfig, type RegistriesConfig } from './registries.js';
export { login, logout, type LoginResult } from './login.js';
export { RegistryError } from './transport/errors.js';
