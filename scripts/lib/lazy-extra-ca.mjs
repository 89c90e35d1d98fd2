// NODE_EXTRA_CA_CERTS, read when kiln first makes a TLS context rather than
// when its executable starts. Node 20 reads the variable before any
// JavaScript runs and, when it is set, builds its whole root store and parses
// the file then (OpenSSL 3: 20-40 ms of every start, also for `ps`, `run` and
// the monitor, which never make a TLS connection). The executable's copy of
// node has the variable's name in its C string table (.rodata) renamed to
// RENAMED, which nothing sets, so node leaves it alone, and the loader
// (scripts/sea-loader.cjs, with scripts/sea-extra-ca.cjs) adds the file's
// certificates to every TLS context made without a `ca` of its own, as
// node's root store would have had them. Only that one string is changed:
// the same name in the V8 snapshot (`--help`'s text, also in .rodata) is not
// a C string. A binary where the C string is not found exactly once is left
// as it is (and node reads the variable at start as before).

export const NAME = 'NODE_EXTRA_CA_CERTS';
export const RENAMED = 'KILN_NODE_EXTRA_CAS'; // same length: the string table keeps its layout

/** [offset, size] of the ELF64 little-endian section `name`, or undefined. */
function section(elf, name) {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const header = (i) => shoff + i * shentsize;
  const strtab = Number(elf.readBigUInt64LE(header(shstrndx) + 24));
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const at = strtab + elf.readUInt32LE(h);
    if (elf.toString('latin1', at, elf.indexOf(0, at)) === name) return [Number(elf.readBigUInt64LE(h + 24)), Number(elf.readBigUInt64LE(h + 32))];
  }
  return undefined;
}

/**
 * Renames NODE_EXTRA_CA_CERTS in the C string table of the node binary in
 * `elf` (a Buffer, changed in place). True when done; false when the binary
 * is not one where the name is found exactly once there.
 */
export function renameExtraCaVariable(elf) {
  const rodata = section(elf, '.rodata');
  if (!rodata) return false;
  const [start, size] = rodata;
  const needle = Buffer.from(`\0${NAME}\0`, 'latin1');
  const hits = [];
  // A C string follows the end of another one (a byte that is not NUL, then NUL); the V8 snapshot's
  // copy (also in .rodata) follows its length field, zero bytes.
  for (let at = elf.indexOf(needle, start); at !== -1 && at + needle.length <= start + size; at = elf.indexOf(needle, at + 1)) {
    if (elf[at - 1] !== 0) hits.push(at);
  }
  if (hits.length !== 1) return false;
  elf.write(RENAMED, hits[0] + 1, 'latin1');
  return true;
}
