/** RUN, COPY and ADD: the instructions with flags that matter most. */
import type { BuildContext } from './context.js';
import { MountError, parseMount } from './mount.js';
import type { CopyInstruction, CopySource, Mount, RunInstruction } from './types.js';

const CHMOD = /^([0-7]{3,4}|[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+(?:,[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)*)$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const dynamic = (v: string) => v.includes('$');
const HEREDOC_WORD = /^\d*<<-?[^<]+$/;

export function buildRun(c: BuildContext): RunInstruction {
  const f = c.flags({ mount: 'strings', network: 'string', security: 'string' });
  const mounts: Mount[] = f.strings('mount').map((m) => {
    try {
      return parseMount(m);
    } catch (e) {
      if (e instanceof MountError) c.fail(`bad --mount=${m}: ${e.message}`, 'see https://docs.docker.com/reference/dockerfile/#run---mount', e, `--mount=${m}`);
      throw e;
    }
  });
  const network = f.string('network') ?? 'default';
  if (!['default', 'none', 'host'].includes(network)) c.fail(`unsupported --network=${network} (use default, none or host)`);
  const security = f.string('security') ?? 'sandbox';
  if (!['sandbox', 'insecure'].includes(security)) c.fail(`unsupported --security=${security} (use sandbox or insecure)`);
  return {
    kind: 'run',
    loc: c.loc,
    command: c.command(),
    heredocs: c.node.heredocs,
    mounts,
    network: network as RunInstruction['network'],
    security: security as RunInstruction['security'],
  };
}

export function buildCopy(c: BuildContext): CopyInstruction {
  const isAdd = c.node.name === 'add';
  const f = c.flags(
    isAdd
      ? { chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool' }
      : { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  );
  const args = c.node.args;
  if (args.length < 2) {
    c.fail(`${c.upper} requires at least two arguments, but only ${args.length === 0 ? 'none was' : 'one was'} provided: the destination could not be determined`);
  }
  const dest = args[args.length - 1];
  if (HEREDOC_WORD.test(dest)) c.fail(`${c.upper} cannot accept a heredoc as a destination`, undefined, undefined, dest);
  const sources: CopySource[] = args.slice(0, -1).map((a) => {
    const doc = a.startsWith('<<') ? c.node.heredocs.find((h) => a.replace(/^<<-?/, '').replace(/["']/g, '') === h.name) : undefined;
    return doc ? { kind: 'heredoc', heredoc: doc } : { kind: 'path', path: a };
  });
  const chmod = f.string('chmod');
  if (chmod !== undefined && !dynamic(chmod) && !CHMOD.test(chmod)) c.fail(`invalid --chmod=${chmod}: expected an octal mode like 0755 or u+x`);
  const checksum = f.string('checksum');
  // A digest (of a downloaded file), or the commit ID a git source's ref must name.
  if (checksum !== undefined && !dynamic(checksum) && !DIGEST.test(checksum) && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(checksum)) c.fail(`invalid --checksum=${checksum}: expected a digest like sha256:… (or a git commit ID)`);
  if (checksum !== undefined) checksumSource(c, sources);
  const from = f.string('from');
  const unpack = f.optionalBool('unpack');
  if (from === '') c.fail('--from needs a stage name, stage index or image reference');
  return {
    kind: isAdd ? 'add' : 'copy',
    loc: c.loc,
    sources,
    dest,
    from,
    chown: f.string('chown'),
    chmod,
    link: f.bool('link'),
    parents: f.bool('parents'),
    exclude: f.strings('exclude'),
    checksum,
    keepGitDir: f.bool('keep-git-dir'),
    ...(unpack !== undefined ? { unpack } : {}),
  };
}

/**
 * ADD --checksum pins one remote source (BuildKit's dispatchCopy): exactly one path beside any heredocs, an http(s) URL
 * or a git repository (a path with a variable is checked once expanded, where the download or the ref is).
 */
function checksumSource(c: BuildContext, sources: CopySource[]): void {
  const paths = sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
  if (paths.length !== 1) c.fail(`ADD --checksum needs exactly one source, an http(s) URL or a git repository: ${paths.length} ${paths.length === 1 ? 'is' : 'are'} given`, 'one ADD per pinned source');
  const p = paths[0]!;
  if (!p.includes('$') && !/^(https?|git|ssh):\/\//i.test(p) && !/^[\w.-]+@[\w.-]+:/.test(p)) c.fail(`ADD --checksum requires an http(s) URL or a git repository: ${p} is a local path`, 'drop --checksum for a file of the build context', undefined, p);
}
