/**
 * The helper process through which `kiln executor` runs a RUN step in place
 * (root `/`) as a user with supplementary groups: Node's spawn sets only the
 * uid and gid (and clears the groups), so kiln re-runs itself as this helper
 * (src/self.ts helperCommand), which sets the groups, the gid and the uid on
 * itself and then starts the step's command — which inherits them, its
 * environment and its standard streams — and ends as the command ended (its
 * exit code, or its signal). The caller starts the helper in a process group
 * of its own and kills the group, so the command never outlives an abort.
 * The one argument is RunAsSpec as JSON.
 */
import { spawn } from 'node:child_process';

export interface RunAsSpec {
  uid: number;
  gid: number;
  /** The supplementary groups (the primary one included, as runc does). */
  groups: number[];
  cwd: string;
  /** The executable's path and the argv[0] it is given. */
  file: string;
  argv0: string;
  args: string[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as RunAsSpec;
try {
  process.setgroups!(spec.groups);
  process.setgid!(spec.gid);
  process.setuid!(spec.uid);
} catch (e) {
  process.stderr.write(`kiln: RUN as ${spec.uid}:${spec.gid} with groups ${spec.groups.join(',')}: ${(e as Error).message}\n`);
  process.exit(126);
}
const child = spawn(spec.file, spec.args, { argv0: spec.argv0, cwd: spec.cwd, stdio: 'inherit' });
child.on('error', (e) => {
  process.stderr.write(`kiln: exec ${spec.argv0}: ${e.message}\n`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  process.exit(code ?? 1);
});
