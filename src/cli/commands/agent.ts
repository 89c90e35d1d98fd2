/**
 * `kiln agent`: serves the engine the global flags choose (`kiln --backend
 * containerd agent …`) over gRPC to remote clients (`kiln --host …`), on unix
 * sockets and TCP ports with mutual TLS. `kiln agent certs` makes a CA, a
 * server and a client certificate in Docker's file layout.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { engineFor } from '../engine.js';
import { globals } from '../context.js';
import { printJSON } from '../output.js';

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

interface AgentFlags {
  listen?: string[];
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  tlsHost?: string[];
}

export function register(program: Command): void {
  const agent = program
    .command('agent')
    .description('Serve this machine\'s engine to remote kiln clients (kiln --host …)')
    .option('-l, --listen <address>', 'unix:///PATH or tcp://HOST:PORT (mutual TLS); repeatable (default: unix://ROOT/agent/agent.sock)', collect)
    .option('--tlscacert <file>', 'CA that signs accepted client certificates')
    .option('--tlscert <file>', "the agent's certificate")
    .option('--tlskey <file>', "the agent's key")
    .option('--tls-host <name>', 'a name or IP the generated server certificate is valid for; repeatable', collect)
    .action(async (opts: AgentFlags, cmd: Command) => serve(opts, cmd));

  agent
    .command('certs')
    .description('Make a CA, an agent certificate and a client certificate (ca.pem, ca-key.pem, server-cert.pem, server-key.pem, cert.pem, key.pem)')
    .requiredOption('--dir <dir>', 'where to write them (created, mode 0700)')
    .option('--host <name>', 'a name or IP clients use to reach the agent; repeatable (localhost, 127.0.0.1, ::1 and this host name are always in)', collect)
    .option('--format <format>', 'json for machine-readable output')
    .action(async (opts: { dir: string; host?: string[]; format?: string }) => {
      const { makeAgentCerts, serverHosts } = await import('../../tls/certs.js');
      const r = await makeAgentCerts(path.resolve(opts.dir), serverHosts(opts.host ?? []));
      if (opts.format === 'json') return printJSON(r);
      process.stdout.write(`wrote ${r.files.length} files to ${r.dir} (server certificate for ${r.hosts.join(', ')})\n`);
      process.stdout.write(`agent:  kiln agent --listen tcp://0.0.0.0:2376 --tlscacert ${r.dir}/ca.pem --tlscert ${r.dir}/server-cert.pem --tlskey ${r.dir}/server-key.pem\n`);
      process.stdout.write(`client: copy ca.pem, cert.pem, key.pem; KILN_CERT_PATH=DIR kiln --host tcp://HOST:2376 …\n`);
    });
}

async function serve(opts: AgentFlags, cmd: Command): Promise<void> {
  const [{ parseAddress }, { startAgentServer }, certs] = await Promise.all([
    import('../../engine/remote/address.js'),
    import('../../engine/remote/server/server.js'),
    import('../../tls/certs.js'),
  ]);
  const g = globals(cmd);
  const listen = (opts.listen ?? [`unix://${path.join(g.root, 'agent', 'agent.sock')}`]).map((l) => parseAddress(l, '--listen'));
  const given = [opts.tlscacert, opts.tlscert, opts.tlskey].filter(Boolean).length;
  if (given !== 0 && given !== 3) throw invalidArgument('the agent needs all of --tlscacert, --tlscert and --tlskey, or none (then it makes its own)');
  const out = process.stdout;
  // Opened first: the local store refuses a --root that already has other files in it.
  const engine = await engineFor(cmd, { serve: true });
  let tls;
  if (listen.some((a) => a.kind === 'tcp')) {
    if (given === 3) {
      tls = await certs.readServerTls({ ca: opts.tlscacert!, cert: opts.tlscert!, key: opts.tlskey! });
    } else {
      const dir = path.join(g.root, 'agent', 'tls');
      const required = [...(opts.tlsHost ?? []), ...listen.flatMap((a) => (a.kind === 'tcp' && a.host !== '0.0.0.0' && a.host !== '::' ? [a.host] : []))];
      const r = await certs.ensureAgentCerts(dir, certs.serverHosts(required), required);
      tls = r.tls;
      out.write(`${{ all: 'made TLS certificates', server: `made a new server certificate (for ${required.join(', ')})`, none: 'using TLS certificates' }[r.made]} in ${dir}; clients need its ca.pem, cert.pem and key.pem (KILN_CERT_PATH=${dir})\n`);
    }
  }
  const info = await engine.info();
  let server;
  try {
    const log = (line: string) => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    server = await startAgentServer({ engine, listen, ...(tls ? { tls } : {}), stateDir: path.join(g.root, 'agent'), log });
  } catch (e) {
    await engine.close();
    throw e;
  }
  out.write(`kiln agent: serving the ${info.backend} engine (${info.root})\n`);
  for (const a of server.addresses) out.write(`listening on ${a}\n`);
  out.write('ready\n');
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      out.write(`${sig}: stopping\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await server.stop();
  await engine.close();
}
