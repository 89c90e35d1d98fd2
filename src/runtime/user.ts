/**
 * `-u name|uid[:group|gid]` resolved against the image's /etc/passwd and
 * /etc/group, the way runc's libcontainer/user does for Docker: a numeric id
 * needs no entry, a name must have one; supplementary groups are the groups
 * listing the user, unless a group was given; `--group-add` adds more.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, isErrno } from '../errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
  username?: string;
}

/** The image's user database; either file may be missing. */
export interface UserDb {
  passwd?: string;
  group?: string;
}

const isNumeric = (s: string): boolean => /^[0-9]+$/.test(s);

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

function findGroup(spec: string, groups: GroupEntry[]): number {
  const byName = groups.find((g) => g.name === spec);
  if (byName) return byName.gid;
  if (isNumeric(spec)) return Number(spec);
  throw invalidArgument(`unable to find group ${spec}: no matching entries in group file`, {
    hint: 'use a numeric gid, or a group that exists in the image',
  });
}

/** Pure: resolves a `-u` value (empty → root) against the user database text. */
export function resolveUser(spec: string | undefined, db: UserDb, groupAdd: string[] = []): ResolvedUser {
  const users = parsePasswd(db.passwd ?? '');
  const groups = parseGroup(db.group ?? '');
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2) as [string?, string?];
  let entry: PasswdEntry | undefined;
  if (userPart === '') entry = users.find((u) => u.uid === 0);
  else entry = users.find((u) => u.name === userPart) ?? (isNumeric(userPart) ? users.find((u) => u.uid === Number(userPart)) : undefined);
  if (entry === undefined && userPart !== '' && !isNumeric(userPart)) {
    throw invalidArgument(`unable to find user ${userPart}: no matching entries in passwd file`, {
      hint: 'use a numeric uid, or a user that exists in the image',
    });
  }
  const uid = entry?.uid ?? (userPart === '' ? 0 : Number(userPart));
  let gid = entry?.gid ?? 0;
  const additional: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    gid = findGroup(groupPart, groups);
  } else if (entry !== undefined) {
    for (const g of groups) if (g.members.includes(entry.name) && g.gid !== gid) additional.push(g.gid);
  }
  for (const g of groupAdd) additional.push(findGroup(g, groups));
  return {
    uid,
    gid,
    additionalGids: [...new Set(additional)],
    home: entry?.home ?? '/',
    ...(entry ? { username: entry.name } : {}),
  };
}

async function readInRootfs(rootfs: string, rel: string): Promise<string | undefined> {
  const path = join(rootfs, rel);
  try {
    // A symlink would point at the host's file, not the image's: treat it as absent.
    if ((await lstat(path)).isSymbolicLink()) return undefined;
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Reads /etc/passwd and /etc/group from a root filesystem directory. */
export async function readUserDb(rootfs: string): Promise<UserDb> {
  const [passwd, group] = await Promise.all([readInRootfs(rootfs, 'etc/passwd'), readInRootfs(rootfs, 'etc/group')]);
  return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
}
