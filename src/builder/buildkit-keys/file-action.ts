/**
 * BuildKit's file op (ops/file.go CacheMap, v0.34.2) beyond the forms in
 * keys.ts: the op digest with the actions' `indexes` (left out only when they
 * are the default pattern: the first action on input 0; written for an op on
 * scratch, `[[-1,0,0]]` for a copy, `[[-1,-1,0]]` for a mkdir), and an owner
 * (`llb.WithUser`: "user[:group]", each part a number or "root" → byId, else
 * byName; pb/json.go writes `{"User":{"byId":n}}`, 0 omitted, or
 * `{"User":{"byName":{"name":…}}}`, input 0 omitted). A by-name owner on the
 * op's first input adds no selector (that input is the action's own, which
 * BuildKit marks invalid for selectors), so the key holds the name only.
 * Measured with buildkitd --save-cache-debug (file-action.test.ts).
 */
import { goJson } from './go-json.js';
import { sha256 } from './keys.js';

type UserOpt = { User: { byName?: { name: string }; byId?: number } };
export interface ChownJson {
  user?: UserOpt;
  group?: UserOpt;
}

/** One part of "user:group" as llb's parseUID reads it; undefined for a number Go's ParseInt(…, 10, 32) takes but kiln would not write the same (signs, out of range). */
function userOpt(part: string): UserOpt | undefined {
  if (part === 'root') return { User: {} };
  if (/^[+-]?\d+$/.test(part)) {
    if (!/^\d+$/.test(part) || Number(part) > 0x7fffffff) return undefined;
    const id = Number(part);
    return { User: id ? { byId: id } : {} };
  }
  return part === '' ? undefined : { User: { byName: { name: part } } };
}

/** The owner llb.WithUser makes of `user` ("name", "uid", "user:group"), or undefined when kiln cannot say. */
export function chownOf(user: string): ChownJson | undefined {
  const i = user.indexOf(':');
  const parts = i < 0 ? [user] : [user.slice(0, i), user.slice(i + 1)];
  const u = userOpt(parts[0]!);
  const g = parts.length > 1 ? userOpt(parts[1]!) : undefined;
  if (!u || (parts.length > 1 && !g)) return undefined;
  return { user: u, ...(g ? { group: g } : {}) };
}

/** A file op's digest: its actions (each JSON, base64 in the key) and, unless the default pattern, their indexes [input, secondaryInput, output]. */
export function fileOpDigest(actions: object[], indexes?: number[][]): string {
  return sha256(goJson({ Type: 'buildkit.file.v0', Actions: actions.map((a) => Buffer.from(goJson(a)).toString('base64')), ...(indexes ? { indexes } : {}) }));
}

/** WORKDIR's mkdir (0755, parents), with the owner USER set (if any), on the state before or on scratch. */
export function mkdirOpDigest(path: string, owner: ChownJson | undefined, onScratch: boolean): string {
  return fileOpDigest([{ path, mode: 0o755, makeParents: true, ...(owner ? { owner } : {}), timestamp: -1 }], onScratch ? [[-1, -1, 0]] : undefined);
}

export interface CopyActionFields {
  src: string;
  dest: string;
  owner?: ChownJson;
  /** --chmod's octal mode; -1 (none) by default. */
  mode?: number;
  /** ADD of a local source: BuildKit unpacks an archive it recognises. */
  unpack?: boolean;
}

/** A copy from the context (one source) on the state before or on scratch: the op's digest. */
export function copyOpDigest(a: CopyActionFields, onScratch: boolean): string {
  const action = {
    src: a.src,
    dest: a.dest,
    ...(a.owner ? { owner: a.owner } : {}),
    ...(a.mode !== 0 ? { mode: a.mode ?? -1 } : {}),
    followSymlink: true,
    dirCopyContents: true,
    ...(a.unpack ? { attemptUnpackDockerCompatibility: true } : {}),
    createDestPath: true,
    allowWildcard: true,
    allowEmptyWildcard: true,
    timestamp: -1,
  };
  return fileOpDigest([action], onScratch ? [[-1, 0, 0]] : undefined);
}
