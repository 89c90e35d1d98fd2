/**
 * Outbound NAT for a kiln bridge: one MASQUERADE rule per bridge, Docker's
 * (`-s SUBNET ! -o BRIDGE`), made when the first container joins the bridge
 * and kept, as the bridge itself is. The CNI bridge plugin's own `ipMasq`
 * made a chain per container instead: eight iptables processes at each
 * start and six at each exit, most of a bridged `run --rm`'s child
 * processes. Here a start costs one check (`iptables -C`) and an exit none.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { internal, isErrno, unavailable } from '../errors.js';
import { withLock } from '../util/lock.js';

export interface MasqueradedBridge {
  bridge: string;
  subnet: string;
}

/** The rule's words after `-C`/`-A`/`-D` (the same for all three, so they match). */
export function masqueradeRule(cfg: MasqueradedBridge): string[] {
  return ['POSTROUTING', '-s', cfg.subnet, '!', '-o', cfg.bridge, '-m', 'comment', '--comment', `kiln bridge ${cfg.bridge}`, '-j', 'MASQUERADE'];
}

/** Runs iptables on the nat table; resolves to its exit code and stderr. */
function iptables(verb: '-C' | '-A' | '-D', cfg: MasqueradedBridge): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('iptables', ['--wait', '-t', 'nat', verb, ...masqueradeRule(cfg)], (err, _stdout, stderr) => {
      if (err && isErrno(err, 'ENOENT')) {
        reject(unavailable('iptables not found: a bridge network needs it for outbound traffic', { hint: 'apt-get install iptables, or use --network host|none' }));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stderr: String(stderr).trim() });
    });
  });
}

/** Makes the bridge's rule unless it is there; `lockDir` serializes the check-and-add of concurrent starts. */
export async function ensureMasquerade(cfg: MasqueradedBridge, lockDir: string): Promise<void> {
  const present = async () => {
    const r = await iptables('-C', cfg);
    // 1: no such rule; anything else but 0 is iptables failing.
    if (r.code !== 0 && r.code !== 1) throw internal(`cannot check the masquerade rule of bridge ${cfg.bridge}: ${r.stderr}`, { hint: 'check iptables, or use --network host|none' });
    return r.code === 0;
  };
  if (await present()) return;
  await mkdir(lockDir, { recursive: true });
  await withLock(path.join(lockDir, 'masquerade.lock'), async () => {
    if (await present()) return;
    const r = await iptables('-A', cfg);
    if (r.code !== 0) throw internal(`cannot add the masquerade rule of bridge ${cfg.bridge}: ${r.stderr}`, { hint: 'check iptables, or use --network host|none' });
  }, { what: 'the bridge masquerade rule' });
}

/** Removes the bridge's rule (every copy); for whoever removes the bridge (tests, benchmarks). */
export async function removeMasquerade(cfg: MasqueradedBridge): Promise<void> {
  while ((await iptables('-D', cfg)).code === 0) {
    // deleted one; look for another
  }
}
