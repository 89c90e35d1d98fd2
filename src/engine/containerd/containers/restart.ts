/**
 * `--restart always|unless-stopped` on containerd: containerd's own restart
 * monitor (the `io.containerd.internal.v1.restart` plugin, in Debian's and
 * k3s's containerd) keeps the task of a container labelled
 * `containerd.io/restart.status=running` running, checking every interval
 * (10 s by default), and gives a new task the log URI of
 * `containerd.io/restart.loguri` (kiln's log driver). kiln sets the labels
 * when such a container starts and drops them on `stop` and `kill`, as docker
 * ignores the policy of a container stopped by hand. The monitor restarts
 * whatever the exit code, so `on-failure` is refused in one line.
 */
import { unimplemented } from '../../../errors.js';
import type { ContainerSpec } from '../../containers.js';

export const STATUS_LABEL = 'containerd.io/restart.status';
export const LOG_URI_LABEL = 'containerd.io/restart.loguri';

/** Whether a start of this container hands it to the restart monitor. */
export const monitored = (spec: ContainerSpec): boolean => spec.restart === 'always' || spec.restart === 'unless-stopped';

export function refuseRestartPolicy(spec: ContainerSpec): void {
  if (spec.restart === 'on-failure') {
    throw unimplemented('--restart on-failure is not supported on the containerd backend (containerd\'s restart monitor restarts whatever the exit code)', { hint: 'use --restart always or unless-stopped, or --backend kube' });
  }
}

/** The monitor's labels of a container handed to it (`logUri`: where a restarted task logs). */
export const restartLabels = (monitor: { logUri: string } | undefined): Record<string, string> => (monitor ? { [STATUS_LABEL]: 'running', [LOG_URI_LABEL]: monitor.logUri } : {});
