/**
 * A pod's streams through the API server: its log (docker's logs; one stream,
 * stdout and stderr together, as the kubelet serves it), attach (-i/-t),
 * and exec with docker's exit codes.
 */
import { PassThrough, type Writable } from 'node:stream';
import { Attach, Exec, Log, type V1Status } from '@kubernetes/client-node';
import { failedPrecondition, KilnError } from '../../../errors.js';
import type { Apis } from '../../../kube/api.js';
import { call, kubeError } from '../../../kube/errors.js';
import type { Kube } from '../../../kube/kubeconfig.js';
import type { Attach as AttachStreams, ExecSpec, LogOptions } from '../../containers.js';
import { CONTAINER } from './names.js';

type Socketish = { close(): void; on(ev: string, fn: (...a: unknown[]) => void): void; readyState: number };

const sinceTime = (since: string | undefined): string | undefined => {
  if (since === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(since);
  if (m) return new Date(Date.now() - Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600 }[m[2]!]! * 1000).toISOString();
  return new Date(since).toISOString();
};

/** Writes the pod's log to `out`; with follow, until the container ends. */
export async function podLogs(k: Kube, a: Apis, pod: string, out: Writable, o: LogOptions & { signal?: AbortSignal } = {}): Promise<void> {
  const since = sinceTime(o.since);
  const opts = { follow: !!o.follow, timestamps: !!o.timestamps, ...(o.tail !== undefined && o.tail >= 0 ? { tailLines: o.tail } : {}), ...(since ? { sinceTime: since } : {}) };
  if (o.tail === 0) return;
  const body = new PassThrough();
  const ended = new Promise<void>((resolve, reject) => {
    body.on('end', resolve);
    body.on('error', reject);
  });
  body.on('data', (c: Buffer) => out.write(c));
  try {
    const ctl = await new Log(k.kc).log(k.namespace, pod, CONTAINER, body, opts);
    o.signal?.addEventListener('abort', () => {
      ctl.abort();
      body.end();
    });
  } catch (e) {
    // The streaming call loses the server's reason: ask once more the plain way for it.
    await call(k, `logs of pod ${k.namespace}/${pod}`, () => a.core.readNamespacedPodLog({ name: pod, namespace: k.namespace, container: CONTAINER, ...opts, follow: false }));
    throw kubeError(e, k, `logs of pod ${k.namespace}/${pod}`);
  }
  await ended;
}

const closed = (ws: Socketish) => new Promise<void>((resolve) => (ws.readyState === 3 ? resolve() : ws.on('close', () => resolve())));

/** `-i`/`-t`: the CLI's stdio on the pod's container through attach; resolves when the attach ends. */
export async function attachPod(k: Kube, pod: string, s: AttachStreams, tty: boolean): Promise<void> {
  let ws: Socketish;
  try {
    ws = (await new Attach(k.kc).attach(k.namespace, pod, CONTAINER, s.stdout ?? null, tty ? null : (s.stderr ?? null), s.stdin ?? null, tty)) as unknown as Socketish;
  } catch (e) {
    throw kubeError(e, k, `attach to pod ${k.namespace}/${pod}`);
  }
  await closed(ws);
}

/** The exec's command: -e and -w through the image's /bin/sh (the exec API has neither); -d in the background. */
export function execArgv(e: ExecSpec): string[] {
  let argv = e.args;
  if (e.env?.length || e.workdir) argv = ['/bin/sh', '-c', 'cd "$0" && exec env "$@"', e.workdir ?? '.', ...(e.env ?? []), ...argv];
  if (e.detach) argv = ['/bin/sh', '-c', '"$@" </dev/null >/dev/null 2>&1 &', 'sh', ...argv];
  return argv;
}

/** docker's exit code from the exec's final status; a process that could not start is 126/127 with the runtime's reason. */
export function execStatusCode(st: V1Status): number {
  if (st.status === 'Success') return 0;
  const code = st.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (code !== undefined) return Number(code);
  const msg = st.message ?? 'exec failed';
  const exec = /exec: "[^"]*": [^:]*/.exec(msg);
  throw new KilnError('FAILED_PRECONDITION', exec ? exec[0] : msg, { exitCode: /not found|no such file/.test(msg) ? 127 : 126 });
}

export async function execPod(k: Kube, pod: string, e: ExecSpec, s: AttachStreams = {}): Promise<number> {
  // The API wants at least one stream: a detached exec (or kill) gets a sink.
  if (!s.stdout && !s.stderr && !s.stdin) s = { stdout: new PassThrough().resume() };
  let status: V1Status | undefined;
  const tty = !!e.tty;
  let ws: Socketish;
  try {
    ws = (await new Exec(k.kc).exec(k.namespace, pod, CONTAINER, execArgv(e), (s.stdout ?? null) as Writable | null, tty ? null : ((s.stderr ?? null) as Writable | null), s.stdin ?? null, tty, (st) => (status = st))) as unknown as Socketish;
  } catch (err) {
    throw kubeError(err, k, `exec in pod ${k.namespace}/${pod}`);
  }
  await closed(ws);
  if (!status) throw failedPrecondition(`exec in pod ${k.namespace}/${pod}: the connection ended without the command's exit status`, { hint: 'the pod may have stopped: kiln --backend kube ps -a' });
  return execStatusCode(status);
}
