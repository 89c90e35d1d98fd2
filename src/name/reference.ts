/**
 * Image references with Docker's normalization: `busybox` →
 * `docker.io/library/busybox:latest`, `localhost:5000/a/b`, `host/x@sha256:…`.
 */
import { invalidArgument } from '../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface Reference {
  /** Registry host (and port): `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainRe = new RegExp(`^(?:${domainName}|${ipv6})(?::[0-9]+)?$`);
const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const MAX_NAME = 255;

function fail(input: string, why: string): never {
  throw invalidArgument(`invalid reference format "${input}": ${why}`, {
    hint: 'a reference looks like [registry/]repository[:tag][@sha256:digest], in lower case',
  });
}

/** Checks an `algorithm:hex` digest; sha256 needs 64 lower-case hex digits. */
export function validateDigest(digest: string, input = digest): string {
  if (!digestRe.test(digest)) fail(input, `bad digest "${digest}"`);
  const [alg, hex] = digest.split(':') as [string, string];
  if (alg === 'sha256' && !/^[a-f0-9]{64}$/.test(hex)) fail(input, `bad sha256 digest "${digest}" (64 lower-case hex digits expected)`);
  if (alg === 'sha512' && !/^[a-f0-9]{128}$/.test(hex)) fail(input, `bad sha512 digest "${digest}"`);
  return digest;
}

function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path };
}

/** Parses and normalizes a reference the way `docker pull` does. */
export function parseReference(input: string): Reference {
  const s = input;
  if (s === '') fail(input, 'empty reference');
  if (/\s/.test(s)) fail(input, 'contains whitespace');
  if (/^[a-f0-9]{64}$/.test(s)) fail(input, 'a repository name cannot be a 64-character hexadecimal string (that is an image id)');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = validateDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) fail(input, `bad tag "${tag}"`);
  }
  if (rest === '') fail(input, 'empty repository name');
  if (rest.length > MAX_NAME) fail(input, `repository name longer than ${MAX_NAME} characters`);
  const { domain, path } = splitDomain(rest);
  if (!domainRe.test(domain)) fail(input, `bad registry host "${domain}"`);
  for (const comp of path.split('/')) {
    if (comp !== comp.toLowerCase() && pathComponentRe.test(comp.toLowerCase())) {
      fail(input, `repository name "${path}" must be lowercase`);
    }
    if (!pathComponentRe.test(comp)) fail(input, `bad repository name component "${comp}"`);
  }
  return { domain, path, tag, digest };
}

/** Like parseReference, and adds `:latest` when neither tag nor digest is given. */
export function parseNormalizedNamed(input: string): Reference {
  const ref = parseReference(input);
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox` */
export const repositoryName = (r: Reference): string => `${r.domain}/${r.path}`;

/** Full form: `docker.io/library/busybox:latest@sha256:…` */
export function formatReference(r: Reference): string {
  return `${repositoryName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** Docker's short form for display: `busybox:latest`, `localhost:5000/a/b:1`. */
export function familiarName(r: Reference): string {
  let name = repositoryName(r);
  if (r.domain === DEFAULT_DOMAIN) name = r.path.startsWith('library/') ? r.path.slice(8) : r.path;
  return name;
}

export function familiarString(r: Reference): string {
  return `${familiarName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The reference the registry is asked for: the digest when known, else the tag. */
export const identifier = (r: Reference): string => r.digest ?? r.tag ?? DEFAULT_TAG;
