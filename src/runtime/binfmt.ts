/**
 * Foreign platforms through QEMU user emulation: the kernel's binfmt_misc runs
 * an arm64 ELF with Debian's qemu-user-static. kiln registers the interpreters
 * it needs with the F (fix-binary) flag, so the kernel opens the interpreter
 * once, at registration, and it works inside runc containers and chroots
 * whose root has no qemu. The magic and mask of each format are read from the
 * package's binfmt-support definitions (/usr/share/binfmts/qemu-ARCH).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { failedPrecondition } from '../errors.js';
import { displayPlatform, hostPlatform, normalizePlatform, platformRank } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';

const run = promisify(execFile);

/** Where binfmt_misc is mounted (KILN_BINFMT_DIR elsewhere, e.g. a host whose /proc is not the kernel's). */
export const binfmtDir = (): string => process.env.KILN_BINFMT_DIR ?? '/proc/sys/fs/binfmt_misc';
const DEFINITIONS = '/usr/share/binfmts';

/** Go architecture → QEMU's name for it. */
const QEMU_ARCH: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  arm: 'arm',
  '386': 'i386',
  riscv64: 'riscv64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  mips64le: 'mips64el',
  loong64: 'loongarch64',
};

/** The platforms `kiln system binfmt --install` registers (those Docker's binfmt installer offers, minus the host's). */
export const COMMON_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7', 'linux/riscv64', 'linux/ppc64le', 'linux/s390x', 'linux/386'];

export interface EmulationStatus {
  platform: string;
  /** native: the host runs it; ready: registered with F; else why not, and what to do. */
  state: 'native' | 'ready' | 'unregistered' | 'no-fix-binary' | 'disabled' | 'unsupported';
  /** The binfmt_misc entry (qemu-aarch64). */
  entry?: string;
  interpreter?: string;
}

/** True when this machine runs `p` without emulation (amd64 runs 386 too). */
export function runsNatively(p: Platform): boolean {
  const host = hostPlatform();
  const want = normalizePlatform(p);
  if (platformRank(host, want) !== undefined) return true;
  return host.architecture === 'amd64' && want.os === 'linux' && want.architecture === '386';
}

const qemuName = (p: Platform): string | undefined => QEMU_ARCH[normalizePlatform(p).architecture];

interface Entry {
  enabled: boolean;
  flags: string;
  interpreter: string;
}

async function readEntry(name: string): Promise<Entry | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(binfmtDir(), name), 'utf8');
  } catch {
    return undefined;
  }
  const field = (k: string) => text.split('\n').find((l) => l.startsWith(`${k} `))?.slice(k.length + 1).trim() ?? '';
  return { enabled: text.startsWith('enabled'), flags: field('flags:').replace(/^:/, ''), interpreter: field('interpreter') };
}

/** How `p` runs here: natively, through a registered interpreter, or not (and why). */
export async function emulationStatus(p: Platform): Promise<EmulationStatus> {
  const platform = displayPlatform(p);
  if (runsNatively(p)) return { platform, state: 'native' };
  const q = qemuName(p);
  if (!q || normalizePlatform(p).os !== 'linux') return { platform, state: 'unsupported' };
  const entry = `qemu-${q}`;
  const e = await readEntry(entry);
  if (!e) return { platform, state: 'unregistered', entry };
  const out = { platform, entry, interpreter: e.interpreter };
  if (!e.enabled) return { ...out, state: 'disabled' };
  if (!e.flags.includes('F')) return { ...out, state: 'no-fix-binary' };
  return { ...out, state: 'ready' };
}

/** Why binfmt_misc cannot be written here, or undefined when it can (mounting it when root may). */
async function binfmtUnusable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'registering an interpreter needs root';
  if (existsSync(path.join(binfmtDir(), 'register'))) return undefined;
  try {
    await run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', binfmtDir()]);
  } catch (e) {
    return `binfmt_misc is not mounted at ${binfmtDir()} and mounting it failed (${((e as { stderr?: string }).stderr ?? String(e)).trim().split('\n')[0]})`;
  }
  return existsSync(path.join(binfmtDir(), 'register')) ? undefined : `binfmt_misc is not available at ${binfmtDir()}`;
}

/** The binfmt-support definition of qemu-q: magic, mask, offset, interpreter. */
async function definition(q: string): Promise<{ magic: string; mask: string; offset: string; interpreter: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(DEFINITIONS, `qemu-${q}`), 'utf8');
  } catch {
    return undefined;
  }
  const field = (k: string) => text.split('\n').find((l) => l.startsWith(`${k} `))?.slice(k.length + 1).trim();
  const magic = field('magic');
  const mask = field('mask');
  const interpreter = field('interpreter');
  if (!magic || !mask || !interpreter) return undefined;
  return { magic, mask, offset: field('offset') ?? '0', interpreter };
}

/**
 * Registers the interpreter for `p` with the F flag (P too: argv[0] kept, as Debian's
 * `-binfmt-P` wrappers expect). `replace`: an entry registered without F is replaced.
 * Throws one line saying why the host does not allow it and what to do.
 */
export async function registerEmulation(p: Platform, opts: { replace?: boolean } = {}): Promise<EmulationStatus> {
  const status = await emulationStatus(p);
  if (status.state === 'native' || status.state === 'ready') return status;
  const what = `running ${status.platform} binaries (QEMU user emulation)`;
  if (status.state === 'unsupported') throw failedPrecondition(`${what}: kiln knows no QEMU emulator for ${status.platform}`, { hint: 'build for linux/amd64, arm64, arm, riscv64, ppc64le, s390x or 386' });
  if (status.state === 'no-fix-binary' && !opts.replace) {
    throw failedPrecondition(`${what}: binfmt_misc entry ${status.entry} is registered without the F (fix-binary) flag, so containers cannot reach its interpreter`, {
      hint: 'run kiln system binfmt --install (as root) to register it again with F',
    });
  }
  const why = await binfmtUnusable();
  if (why) throw failedPrecondition(`${what}: ${why}`, { hint: 'run kiln system binfmt --install as root on the host' });
  const q = qemuName(p)!;
  const def = await definition(q);
  if (!def || !existsSync(def.interpreter)) {
    throw failedPrecondition(`${what}: qemu-user-static is not installed (no ${path.join(DEFINITIONS, `qemu-${q}`)} or its interpreter)`, { hint: 'apt-get install qemu-user-static, then build again' });
  }
  const entry = `qemu-${q}`;
  if (status.state !== 'unregistered') await writeFile(path.join(binfmtDir(), entry), '-1');
  await writeFile(path.join(binfmtDir(), 'register'), `:${entry}:M:${def.offset}:${def.magic}:${def.mask}:${def.interpreter}:PF`);
  return emulationStatus(p);
}

/** Emulation for each foreign platform of `platforms`, registered when missing; one line when it cannot be. */
export async function ensureEmulation(platforms: Platform[]): Promise<void> {
  for (const p of platforms) if (!runsNatively(p)) await registerEmulation(p);
}
