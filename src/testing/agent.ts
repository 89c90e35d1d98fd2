/**
 * Starts a real `kiln agent` (the built CLI, as a child process) for a test:
 * its own --root (a temp dir unless given), a TCP listener on 127.0.0.1 with
 * mutual TLS (the agent makes its certificates under ROOT/agent/tls) and a
 * unix socket. Resolves once the agent prints `ready`. `kill()` is a crash
 * (SIGKILL), `restart()` starts it again on the same port, socket and root;
 * `stop()` ends it and removes what the harness created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { kilnCommand } from './kiln.js';
import { removeDir, tempDir } from './tempdir.js';

export interface StartAgentOptions {
  /** The agent's --root (default: a temp dir, removed by stop()). */
  root?: string;
  /** Listen on TCP with mutual TLS (default true). */
  tls?: boolean;
  /** Listen on a unix socket (default true). */
  unix?: boolean;
  /** Global flags before `agent` (e.g. ['--backend', 'containerd', '--address', SOCK]). */
  globalArgs?: string[];
  /** Extra `agent` flags (e.g. your own --tlscacert/--tlscert/--tlskey). */
  agentArgs?: string[];
  env?: Record<string, string>;
  /** How long to wait for `ready` (default 60 s: the machine is shared). */
  timeoutMs?: number;
}

export interface TestAgent {
  root: string;
  /** tcp://127.0.0.1:PORT when tls is on. */
  tcp?: string;
  /** unix:///…/agent.sock when unix is on. */
  unix?: string;
  /** KILN_CERT_PATH for a client: ca.pem, cert.pem, key.pem (and the CA's key, for tests that sign more). */
  certPath: string;
  tlsFiles: { ca: string; cert: string; key: string };
  /** The environment a `kiln --host` client needs to reach the TCP listener (KILN_HOST, KILN_CERT_PATH). */
  clientEnv: Record<string, string>;
  /** Everything the agent printed so far. */
  log(): Promise<string>;
  pid(): number | undefined;
  /** SIGKILL, as a crash: the root and the certificates stay. */
  kill(): Promise<void>;
  /** Starts it again on the same port, socket and root (kills it first if it runs). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgent(opts: StartAgentOptions = {}): Promise<TestAgent> {
  const dir = await tempDir('kiln-agent-');
  const root = opts.root ?? path.join(dir, 'root');
  const logFile = path.join(dir, 'agent.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const socket = path.join(dir, 'agent.sock');
  const useTls = opts.tls ?? true;
  const useUnix = opts.unix ?? true;
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const agent: TestAgent = {
    root,
    certPath: path.join(root, 'agent', 'tls'),
    tlsFiles: { ca: path.join(root, 'agent', 'tls', 'ca.pem'), cert: path.join(root, 'agent', 'tls', 'cert.pem'), key: path.join(root, 'agent', 'tls', 'key.pem') },
    clientEnv: {},
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    pid: () => child?.pid,
    async kill() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await agent.kill();
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child?.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      log.end();
      if (process.env.KILN_KEEP_TEST_DIRS !== '1') await removeDir(dir);
    },
  };

  function launch(): Promise<void> {
    const listen = [...(useTls ? ['--listen', `tcp://127.0.0.1:${port}`] : []), ...(useUnix ? ['--listen', `unix://${socket}`] : [])];
    const cmd = kilnCommand(['--root', root, ...(opts.globalArgs ?? []), 'agent', ...listen, ...(opts.agentArgs ?? [])]);
    const env = { ...process.env, ...opts.env };
    delete env.KILN_HOST;
    const c = spawn(cmd.file, cmd.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    let out = '';
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`kiln agent did not get ready in ${opts.timeoutMs ?? 60_000} ms:\n${out}`));
      }, opts.timeoutMs ?? 60_000);
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        out += chunk.toString();
        if (!/^ready$/m.test(out)) return;
        clearTimeout(timer);
        const tcp = /^listening on (tcp:\/\/\S+)$/m.exec(out)?.[1];
        if (tcp) {
          port = Number(/:(\d+)$/.exec(tcp)![1]);
          agent.tcp = tcp;
          agent.clientEnv = { KILN_HOST: tcp, KILN_CERT_PATH: agent.certPath };
        }
        if (useUnix) agent.unix = `unix://${socket}`;
        if (!useTls && agent.unix) agent.clientEnv = { KILN_HOST: agent.unix };
        resolve();
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`kiln agent exited (${code ?? signal}) before it was ready:\n${out}`));
      });
    });
  }

  try {
    await launch();
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return agent;
}
