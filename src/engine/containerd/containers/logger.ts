/**
 * The log driver the runc v2 shim runs for kiln's containers (stdout URI
 * `binary://NODE?logger.js=LOG`, see ./io.ts): containerd's binary logging
 * protocol gives the container's stdout on fd 3, its stderr on fd 4, and fd 5
 * to close once ready. Both streams go to LOG in the CRI format (the local
 * backend's, src/runtime/crilog.ts), so `kiln logs` reads it after the CLI
 * that started the container has gone. The shim signals SIGTERM when the
 * task's IO closes; the logger drains what is left and ends.
 *
 * Entry: node logger.js LOG, or `kiln __kiln-containerd-logger LOG` packaged.
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { CriLogWriter } from '../../../runtime/crilog.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('kiln containerd logger: no log file given\n');
  process.exit(2);
}
// What a process printed last without a newline is shown as it was, as docker shows it.
const log = new CriLogWriter(file, { endPartial: true });
const open = (fd: number) => new Socket({ fd, readable: true, writable: false });
// Draining after SIGTERM: the streams end when the container's last writer closes them.
process.on('SIGTERM', () => undefined);
const done = Promise.all([log.pipe('stdout', open(3)), log.pipe('stderr', open(4))]);
closeSync(5);
done
  .then(() => log.close())
  .then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`kiln containerd logger: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
