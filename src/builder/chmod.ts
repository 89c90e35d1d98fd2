/**
 * `COPY/ADD --chmod=`: an octal mode (`0755`, every file gets it) or a
 * symbolic one as chmod(1) writes it (`u+x,go-w`, `a=rX`, `g=u`), applied to
 * each copied file's own mode. With no who (`+x`), all of u, g and o are meant
 * (a build has no umask). `X` adds execute to directories and to files that
 * have an execute bit already; `s` is setuid/setgid, `t` sticky.
 */
import { invalidArgument } from '../errors.js';

/** The new mode of a file with permission bits `mode`. */
export type ChmodFn = (mode: number, isDir: boolean) => number;

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007, a: 0o7777 };
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/;

function permBits(perms: string, mode: number, isDir: boolean): number {
  let bits = 0;
  for (const p of perms) {
    if (p === 'r') bits |= 0o444;
    else if (p === 'w') bits |= 0o222;
    else if (p === 'x') bits |= 0o111;
    else if (p === 'X') bits |= isDir || (mode & 0o111) !== 0 ? 0o111 : 0;
    else if (p === 's') bits |= 0o6000;
    else if (p === 't') bits |= 0o1000;
  }
  return bits;
}

/** A copy of another class's bits (`g=u`), spread to every class. */
function copyBits(from: string, mode: number): number {
  const three = from === 'u' ? (mode >> 6) & 7 : from === 'g' ? (mode >> 3) & 7 : mode & 7;
  return (three << 6) | (three << 3) | three;
}

export function parseChmod(spec: string): ChmodFn {
  if (/^[0-7]{3,4}$/.test(spec)) {
    const mode = parseInt(spec, 8);
    return () => mode;
  }
  const clauses = spec.split(',').map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) throw invalidArgument(`invalid --chmod=${spec}: "${c}" is not a mode`, { hint: 'use an octal mode like 0755, or a symbolic one like u+x,go-w' });
    let who = 0;
    for (const w of m[1] || 'a') who |= WHO[w]!;
    const ops = [...m[2]!.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((o) => ({ op: o[1]!, perms: o[2]! }));
    return { who, ops };
  });
  return (start, isDir) => {
    let mode = start & 0o7777;
    for (const { who, ops } of clauses) {
      for (const { op, perms } of ops) {
        const bits = (/^[ugo]$/.test(perms) ? copyBits(perms, mode) : permBits(perms, mode, isDir)) & who;
        // `=` clears the class's rwx bits and its special bit, keeping the others'.
        if (op === '=') mode = (mode & ~who) | bits;
        else if (op === '+') mode |= bits;
        else mode &= ~bits;
      }
    }
    return mode;
  };
}
