/**
 * `kiln executor --context`, as kaniko spells it: `dir://PATH` (or a bare path), `tar://stdin`,
 * `http(s)://…` (a context tar, plain or compressed, as `kiln build URL`), and git repositories
 * (`https://host/repo.git#ref`, `git://host/repo#ref`) checked out with the builder's git support.
 * kaniko clones `git://` URLs over https (or http with GIT_PULL_METHOD=http); so does kiln.
 * Remote contexts are fetched when the executor asks (after it has moved its scratch into the state dir).
 */
import { invalidArgument } from '../../errors.js';
import { isGitUrl } from '../../builder/git.js';
import type { ExecutorContext } from '../../executor/executor.js';

/** `git://host/repo#ref` → the https (or http) URL kaniko would clone. */
export function kanikoGitUrl(spec: string, method = process.env.GIT_PULL_METHOD): string {
  if (!/^git:\/\//i.test(spec)) return spec;
  const scheme = (method ?? 'https').toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') throw invalidArgument(`GIT_PULL_METHOD=${method}: use https or http`);
  return `${scheme}://${spec.slice('git://'.length)}`;
}

export function parseExecutorContext(spec: string): ExecutorContext {
  if (spec === 'tar://stdin') return { tar: process.stdin };
  if (spec.startsWith('dir://')) return { dir: spec.slice('dir://'.length) };
  if (/^git:\/\//i.test(spec) || isGitUrl(spec)) {
    const url = kanikoGitUrl(spec);
    return { open: async () => ({ dir: await (await import('./build-git-context.js')).gitContext(url) }) };
  }
  if (/^https?:\/\//i.test(spec)) {
    return {
      open: async () => {
        const got = await (await import('./build.js')).urlContext(spec);
        if (!got.contextTar) throw invalidArgument(`--context ${spec}: the URL serves a Dockerfile, not a context tar`, { hint: 'serve a tar archive (plain, gzip, bzip2, xz or zstd) of the context' });
        return { tar: got.contextTar };
      },
    };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) return { dir: spec };
  throw invalidArgument(`--context ${spec}: kiln executor takes dir://PATH, tar://stdin, http(s)://…tar or a git URL (git://HOST/REPO#REF, https://HOST/REPO.git#REF)`, {
    hint: 'mount or copy the context into the container and pass dir://PATH',
  });
}
