/** Credentials as the transport uses them (from docker config, a helper or registries.yaml). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** OAuth2 refresh token from `docker login` against a token server. */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

/** Where credentials for a registry host come from. */
export interface CredentialStore {
  /** Credentials for `host` (`127.0.0.1:5000`, `docker.io`…), undefined when none. */
  get(host: string): Promise<AuthConfig | undefined>;
}

export const basicHeader = (a: AuthConfig): string =>
  'Basic ' + Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`, 'utf8').toString('base64');

export const hasSecret = (a: AuthConfig | undefined): a is AuthConfig =>
  a !== undefined && Boolean(a.password || a.identitytoken || a.registrytoken);
