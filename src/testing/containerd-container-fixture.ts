/**
 * The container fixture (./container-fixture.ts) on the containerd backend:
 * a containerd of its own (./containerd.ts), kiln with `--backend containerd
 * --namespace kiln-test`, busybox imported into it, its own bridge; the
 * cleanup fails the test when containerd still holds a container, task or
 * writable root, or a network namespace or veth is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bridgeMembers, IMAGE, type ContainerFixture } from './container-fixture.js';
import { startContainerd, type TestContainerd } from './containerd.js';
import { kiln, kilnCommand, kilnOk } from './kiln.js';
import { busyboxTar } from './runtime-fixture.js';
import { removeDir, tempDir } from './tempdir.js';
import { removeMasquerade } from '../runtime/masquerade.js';

export const CTR_NAMESPACE = 'kiln-test';

export interface ContainerdContainerFixture extends ContainerFixture {
  ctd: TestContainerd;
  /** `ctr -n kiln-test ARGS`. */
  ctr(args: string[]): Promise<string>;
}

/** The first column of a `ctr … ls` table. */
export const ctrIds = (out: string): string[] => out.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]!);

export async function containerdContainerFixture(): Promise<ContainerdContainerFixture> {
  const [ctd, root] = await Promise.all([startContainerd(), tempDir('kiln-ctd-ctr-')]);
  const bridge = `kc${randomBytes(4).toString('hex')}`;
  const subnet = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24`;
  writeFileSync(path.join(root, 'network.json'), JSON.stringify({ bridge, subnet }));
  const flags = ['--backend', 'containerd', '--address', ctd.address, '--namespace', CTR_NAMESPACE];
  const k = (args: string[], input?: string) => kiln([...flags, ...args], { root, ...(input !== undefined ? { input } : {}) });
  const ok = (args: string[], input?: string) => kilnOk([...flags, ...args], { root, ...(input !== undefined ? { input } : {}) });
  const ctr = (args: string[]) => ctd.ctr(args, { namespace: CTR_NAMESPACE });
  try {
    await ok(['import', busyboxTar(), IMAGE]);
  } catch (e) {
    await ctd.stop();
    throw e;
  }
  return {
    root,
    bridge,
    subnet,
    k,
    ok,
    argv: (args) => {
      const cmd = kilnCommand(['--root', root, ...flags, ...args]);
      return [cmd.file, ...cmd.args];
    },
    ctd,
    ctr,
    async cleanup() {
      const ids = (await k(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await k(['rm', '-f', ...ids]);
      const left = (await k(['ps', '-aq'])).stdout;
      const containers = ctrIds(await ctr(['containers', 'ls']));
      const tasks = ctrIds(await ctr(['tasks', 'ls']));
      const netns = ids.length === 0 ? [] : execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => ids.some((id) => l.startsWith(`kiln-${id.slice(0, 16)}`)));
      const veths = bridgeMembers(bridge);
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      } catch {
        // no bridge was made
      }
      // The bridge's outbound NAT rule goes with it (kiln keeps it while the bridge lives).
      await removeMasquerade({ bridge, subnet });
      await ctd.stop();
      await removeDir(root);
      assert.equal(left, '', 'containers left behind');
      assert.deepEqual([containers, tasks], [[], []], 'containerd containers or tasks left behind');
      assert.deepEqual(netns, [], 'network namespaces left behind');
      assert.deepEqual(veths, [], 'veths left on the bridge');
    },
  };
}
