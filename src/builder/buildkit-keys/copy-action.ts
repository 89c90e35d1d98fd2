/**
 * BuildKit's file op (v0.34.2) as its solver hashes it (solver/llbsolver/ops/
 * file.go CacheMap): the actions' JSON, base64 each, and their input indexes
 * when they are not what BuildKit calls default. For a COPY or ADD of local
 * sources the Dockerfile frontend writes one copy action per source, in the
 * order written, each the JSON of pb.FileActionCopy with the fields Go writes
 * (omitempty) and `src` cut to its base name. An owner is `llb.WithUser`'s:
 * "user[:group]", each part a number or "root" by ID (pb/json.go writes
 * `{"User":{"byId":n}}`, 0 omitted), else by name (`{"User":{"byName":
 * {"name":…}}}`, input 0 omitted); a by-name owner adds no selector (its input
 * is the action's own, which BuildKit marks invalid for selectors). Measured
 * with `buildkitd --save-cache-debug` (copy-forms.test.ts, file-ops.test.ts).
 */
import { goJson } from './go-json.js';
import { sha256 } from './keys.js';

/** `--chown=user[:group]` as llb.WithUser writes it: a number (or "root") by ID, else by name. */
export interface Owner {
  user: OwnerPart;
  group?: OwnerPart;
}
type OwnerPart = { byId: number } | { byName: string };

export function parseOwner(chown: string): Owner | undefined {
  const [u, g] = chown.split(/:(.*)/s, 2) as [string, string | undefined];
  const part = (v: string): OwnerPart | undefined => {
    if (v === 'root') return { byId: 0 };
    // Go's strconv.ParseInt(v, 10, 32) takes a sign too; a signed, negative or too large ID is not named.
    if (/^[+-]?\d+$/.test(v)) {
      const n = Number(v);
      return /^\d+$/.test(v) && n <= 0x7fffffff ? { byId: n } : undefined;
    }
    return v === '' ? undefined : { byName: v };
  };
  const user = part(u);
  if (!user) return undefined;
  if (g === undefined) return { user };
  const group = part(g);
  return group ? { user, group } : undefined;
}

/** `--chmod`: an octal mode (0-07777) enters as `mode`, a symbolic one as `modeStr` (mode then 0: left out). */
export type Chmod = { mode: number } | { modeStr: string };

export function parseChmodKey(chmod: string): Chmod | undefined {
  if (/^[0-7]+$/.test(chmod)) {
    const n = parseInt(chmod, 8);
    return n <= 0o7777 ? { mode: n } : undefined;
  }
  return chmod === '' ? undefined : { modeStr: chmod };
}

type UserJson = { User: { byName?: { name: string }; byId?: number } };
/** An owner as pb/json.go writes it. */
export interface ChownJson {
  user?: UserJson;
  group?: UserJson;
}

const userJson = (p: OwnerPart): UserJson => ({ User: 'byId' in p ? (p.byId ? { byId: p.byId } : {}) : { byName: { name: p.byName } } });

export const ownerJson = (o: Owner): ChownJson => ({ user: userJson(o.user), ...(o.group ? { group: userJson(o.group) } : {}) });

/** The owner llb.WithUser makes of `user` ("name", "uid", "user:group") as the key holds it, or undefined when kiln cannot say. */
export function chownOf(user: string): ChownJson | undefined {
  const o = parseOwner(user);
  return o && ownerJson(o);
}

export interface CopyActionFields {
  /** The source path as the frontend normalized it (absolute); the action keeps its base name. */
  src: string;
  dest: string;
  owner?: Owner;
  chmod?: Chmod;
  /** ADD of a local source: BuildKit unpacks an archive it recognises (in the op; the key is the archive's bytes). */
  unpack?: boolean;
  /** A heredoc's file (copy-heredoc.ts): no symlink following, directory contents or wildcards. */
  heredoc?: boolean;
  includePatterns?: string[];
  excludePatterns?: string[];
  requiredPaths?: string[];
}

/** One copy action's JSON, fields in pb.FileActionCopy's order. */
export function copyActionJson(a: CopyActionFields): string {
  const base = a.src === '/' ? '/' : a.src.replace(/\/+$/, '').split('/').pop() || '/';
  const mode = a.chmod === undefined ? -1 : 'mode' in a.chmod ? a.chmod.mode : 0;
  return goJson({
    src: base,
    dest: a.dest,
    ...(a.owner ? { owner: ownerJson(a.owner) } : {}),
    ...(mode !== 0 ? { mode } : {}),
    ...(a.heredoc ? {} : { followSymlink: true, dirCopyContents: true }),
    ...(a.unpack ? { attemptUnpackDockerCompatibility: true } : {}),
    createDestPath: true,
    ...(a.heredoc ? {} : { allowWildcard: true, allowEmptyWildcard: true }),
    timestamp: -1,
    ...(a.includePatterns?.length ? { include_patterns: a.includePatterns } : {}),
    ...(a.excludePatterns?.length ? { exclude_patterns: a.excludePatterns } : {}),
    ...(a.chmod && 'modeStr' in a.chmod ? { modeStr: a.chmod.modeStr } : {}),
    ...(a.requiredPaths?.length ? { required_paths: a.requiredPaths } : {}),
  });
}

/**
 * Each copy action's [input, secondary input, output] as client/llb's FileOp
 * numbers them: the op's inputs are the state before (input 0; none on
 * scratch) then each distinct source state in order of first use
 * (`secondaries`: the input each action copies from, so the op has
 * max(secondaries) + 1 inputs); the first action runs on input 0 (-1 on
 * scratch), each later one on the output before it (`inputs + i - 1`), the
 * last one is the op's output 0. Local sources share the context's input; each
 * URL, git repository or heredoc is its own.
 */
export function copyIndexes(secondaries: number[], onScratch = false): number[][] {
  const inputs = Math.max(...secondaries) + 1;
  return secondaries.map((secondary, i) => [i === 0 ? (onScratch ? -1 : 0) : inputs + i - 1, secondary, i === secondaries.length - 1 ? 0 : -1]);
}

/** The secondaries of `n` actions copying from one source state (the context, a --from stage): input 1, or 0 on scratch. */
export const sameSource = (n: number, onScratch = false): number[] => Array.from({ length: n }, () => (onScratch ? 0 : 1));

/** The secondaries of `n` actions each copying from its own source state (URLs, heredocs). */
export const ownSources = (n: number, onScratch = false): number[] => Array.from({ length: n }, (_, i) => (onScratch ? i : i + 1));

/** BuildKit's isDefaultIndexes, including its use of the action count where the input count is meant (3+ actions are never default). */
export function isDefaultIndexes(idxs: number[][]): boolean {
  if (idxs.length === 0) return false;
  return idxs.every(([input, secondary, output], i) => {
    if (i === 0 ? input !== 0 : input !== idxs.length + (i - 1)) return false;
    if (secondary !== -1 && secondary !== 1) return false;
    return i === idxs.length - 1 ? output === 0 : output === -1;
  });
}

/** The file op's digest: its actions (JSON texts) and their indexes [input, secondary input, output], left out when default. */
export function fileOpDigest(actions: string[], indexes: number[][]): string {
  const encoded = actions.map((a) => Buffer.from(a).toString('base64'));
  return sha256(goJson({ Type: 'buildkit.file.v0', Actions: encoded, ...(isDefaultIndexes(indexes) ? {} : { indexes }) }));
}

/** A --from input's selector: the sources' paths, sorted, reversed, joined by "\0" (not deduplicated). */
export function selectorDigest(paths: string[]): string {
  const sorted = [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).reverse();
  return sha256(sorted.join('\0'));
}

/** The file op of a copy of one context path (`src` absolute, "/" for the context; `dest` resolved) on the state before or on scratch. */
export const copyOpDigest = (a: CopyActionFields, onScratch = false): string => fileOpDigest([copyActionJson(a)], copyIndexes(sameSource(1, onScratch), onScratch));
