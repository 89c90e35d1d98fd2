import { statSync } from 'node:fs';
import { writeOutputFile } from '../../user-files.js';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { invalidArgument, notFound, unavailable } from '../../errors.js';
import { cancellableBuild } from '../build-cancel.js';
import type { BuildOptions, SecretSpec, SshSpec } from '../../builder/types.js';
import type { CacheExport } from '../../builder/types.js';
import { parseCodec, peekHead, sniffCodec } from '../../layer/compress.js';
import { targetPlatforms } from '../../builder/platforms.js';
import { sourceDateEpochFromEnv } from '../../layer/diff.js';
import { withEngine } from '../engine.js';
import { globals } from '../context.js';
import { createBuildProgress, type ProgressMode } from '../build-progress.js';
import { buildMetadata, csv, planOutputs } from './build-outputs.js';
import { runCheck } from './build-check.js';

const collect = (v: string, acc: string[]) => [...acc, v];

interface Flags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  cache: boolean;
  label: string[];
  network: string;
  secret: string[];
  ssh: string[];
  output: string[];
  iidfile?: string;
  quiet?: boolean;
  progress: string;
  compression?: string;
  addHost: string[];
  pull?: boolean;
  push?: boolean;
  platform: string[];
  metadataFile?: string;
  cacheFrom: string[];
  cacheTo: string[];
  check?: boolean;
}

/** `K=V` pairs; a bare `K` takes the value of the CLI's environment (Docker's rule for --build-arg). */
function keyValues(list: string[], what: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i === 0) throw invalidArgument(`${what} ${kv}: the name is empty`, { hint: `use ${what} NAME=VALUE` });
    if (i < 0) {
      if (!fromEnv) throw invalidArgument(`${what} ${kv}: expected NAME=VALUE`);
      const v = process.env[kv];
      if (v !== undefined) out[kv] = v;
      continue;
    }
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function parseSecret(spec: string): SecretSpec {
  const m = csv(spec);
  const id = m.id;
  if (!id) throw invalidArgument(`--secret ${spec}: id= is required`, { hint: '--secret id=mytoken,src=./token.txt or --secret id=mytoken,env=TOKEN' });
  const src = m.src ?? m.source;
  if (src !== undefined) return { id, src };
  if (m.env !== undefined) return { id, env: m.env };
  if (m.type === 'env') return { id, env: id };
  return { id, src: id };
}

/** `--ssh default`, `--ssh default=/path/agent.sock`, `--ssh ID=SOCKET`: agent sockets only (not key files). */
function parseSsh(spec: string): SshSpec {
  const eq = spec.indexOf('=');
  const id = eq < 0 ? spec : spec.slice(0, eq);
  const socket = eq < 0 ? process.env.SSH_AUTH_SOCK : spec.slice(eq + 1).split(',')[0];
  if (!id) throw invalidArgument(`--ssh ${spec}: an id is required`, { hint: '--ssh default or --ssh default=$SSH_AUTH_SOCK' });
  if (!socket) throw invalidArgument(`--ssh ${spec}: SSH_AUTH_SOCK is not set`, { hint: 'start an ssh-agent, or pass --ssh ID=/path/to/agent.sock' });
  const st = statSync(socket, { throwIfNoEntry: false });
  if (!st) throw notFound(`--ssh ${spec}: ${socket} does not exist`, { hint: 'pass the path of a running ssh-agent socket' });
  if (!st.isSocket()) throw invalidArgument(`--ssh ${spec}: ${socket} is not a socket; kiln forwards ssh-agent sockets, not key files`, { hint: 'load the key into an ssh-agent (ssh-add) and pass its socket' });
  return { id, socket };
}

/** `--cache-from`/`--cache-to`: `type=registry,ref=HOST/REPO:TAG[,mode=min|max]`, or a bare ref; other keys are ignored. */
function parseCacheSpec(spec: string, flag: string): CacheExport {
  const m = spec.includes('=') ? csv(spec) : { type: 'registry', ref: spec };
  const type = m.type ?? 'registry';
  if (type !== 'registry') throw invalidArgument(`${flag} ${spec}: cache type ${type} is not supported`, { hint: `use ${flag} type=registry,ref=HOST/REPO:TAG` });
  if (!m.ref) throw invalidArgument(`${flag} ${spec}: ref= is required`, { hint: `use ${flag} type=registry,ref=HOST/REPO:TAG` });
  const mode = m.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw invalidArgument(`${flag} ${spec}: mode=${mode}: use min or max`);
  return { ref: m.ref, mode };
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

/** bzip2 and xz, which a context tar may also come in (gzip and zstd: sniffCodec). */
const OTHER_TAR_MAGIC = [Buffer.from('BZh'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a])];

/** `kiln build -` or a URL: the bytes are a context tar (plain or compressed), or a Dockerfile without context. */
async function streamContext(source: Readable): Promise<Pick<BuildOptions, 'contextTar' | 'dockerfileText'>> {
  const { head, stream } = await peekHead(source, 512);
  const isTar =
    sniffCodec(head) !== 'none' || OTHER_TAR_MAGIC.some((m) => head.subarray(0, m.length).equals(m)) || head.subarray(257, 262).toString() === 'ustar';
  if (isTar) return { contextTar: stream };
  return { dockerfileText: await readAll(stream as AsyncIterable<Buffer>) };
}

/** `kiln build https://…/ctx.tar.gz`: the context (or a Dockerfile) streamed from an http(s) URL. */
async function urlContext(url: string): Promise<Pick<BuildOptions, 'contextTar' | 'dockerfileText'>> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw unavailable(`fetching the build context ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`, { cause: e, hint: 'check the URL and that the server is reachable' });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw notFound(`fetching the build context ${url}: HTTP ${res.status} ${res.statusText}`, { hint: 'the URL must serve a tar archive (plain, gzip, bzip2, xz or zstd) or a Dockerfile' });
  }
  return streamContext(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>));
}

export function register(program: Command): void {
  program
    .command('build')
    .description('Build an image from a Dockerfile')
    .argument('<context>', 'context directory; - to read a tar (or a Dockerfile) from standard input; or an http(s) URL of a tar (or a Dockerfile)')
    .option('-t, --tag <name>', 'name and optionally tag the image (repeatable)', collect, [])
    .option('-f, --file <file>', 'the Dockerfile (default: CONTEXT/Dockerfile); - reads it from standard input')
    .option('--build-arg <k=v>', 'set a build-time variable (repeatable)', collect, [])
    .option('--target <stage>', 'build this stage and what it needs')
    .option('--no-cache', 'do not use the build cache')
    .option('--label <k=v>', 'set an image label (repeatable)', collect, [])
    .option('--network <mode>', 'network of RUN steps: host (default) or none', 'host')
    .option('--secret <spec>', 'secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable)', collect, [])
    .option('--ssh <spec>', 'ssh-agent socket for RUN --mount=type=ssh: default (uses $SSH_AUTH_SOCK) or ID=SOCKET (repeatable)', collect, [])
    .option('-o, --output <spec>', 'type=image[,name=N][,push=true] | type=registry[,name=N] | type=local,dest=DIR | type=tar,dest=FILE | type=oci,dest=FILE | type=docker,dest=FILE (repeatable)', collect, [])
    .option('--iidfile <file>', 'write the image ID to this file')
    .option('-q, --quiet', 'print only the image ID')
    .option('--progress <mode>', 'auto, plain or tty', 'auto')
    .option('--compression <codec>', 'how new layers are kept in the store: none (default: uncompressed, as Docker\'s store; push sends them gzip-compressed), gzip or zstd')
    .option('--add-host <host:ip>', 'add a line to /etc/hosts of RUN steps (repeatable)', collect, [])
    .option('--pull', 'pull base images even when they are stored')
    .option('--push', 'push every -t name after the build (-o type=registry)')
    .option('--platform <platform>', 'target platform(s): os/arch[/variant], comma-separated or repeated; several make one multi-platform index (foreign RUN steps under QEMU)', collect, [])
    .option('--metadata-file <file>', 'write the build result (digests, names) as JSON to this file')
    .option('--cache-from <spec>', 'reuse steps cached in a registry: type=registry,ref=HOST/REPO:TAG or just the ref (repeatable; a missing ref is a warning)', collect, [])
    .option('--cache-to <spec>', 'after the build, push its step cache to a registry: type=registry,ref=HOST/REPO:TAG[,mode=min|max] (min: the target stage; max: every stage)', collect, [])
    .option('--check', "run BuildKit's build checks on the Dockerfile and build nothing (exit 1 on a warning)")
    .action(async (context: string, f: Flags, cmd: Command) => {
      if (f.check) return runCheck(context, f.file);
      if (f.network !== 'host' && f.network !== 'none') throw invalidArgument(`--network ${f.network}: kiln build supports host and none`);
      if (!['auto', 'plain', 'tty'].includes(f.progress)) throw invalidArgument(`--progress ${f.progress}: use auto, plain or tty`);
      const plan = planOutputs(f.output, f.tag, Boolean(f.push));
      if (context === '-' && f.file === '-') throw invalidArgument('the context and the Dockerfile cannot both come from standard input');
      const opts: BuildOptions = {
        tags: plan.names,
        buildArgs: keyValues(f.buildArg, '--build-arg', true),
        labels: keyValues(f.label, '--label', false),
        network: f.network,
        addHosts: f.addHost,
        pull: Boolean(f.pull),
        secrets: f.secret.map(parseSecret),
        ssh: f.ssh.map(parseSsh),
        outputs: plan.outputs,
        noCache: !f.cache,
        ...(f.compression !== undefined ? { compression: parseCodec(f.compression) } : {}),
        sourceDateEpoch: sourceDateEpochFromEnv(),
        cacheFrom: f.cacheFrom.map((c) => parseCacheSpec(c, '--cache-from').ref),
        cacheTo: f.cacheTo.map((c) => parseCacheSpec(c, '--cache-to')),
        ...(f.target !== undefined ? { target: f.target } : {}),
        ...(f.platform.length > 0 ? { platforms: targetPlatforms(f.platform) } : {}),
      };
      if (context === '-') Object.assign(opts, await streamContext(process.stdin));
      else if (/^https?:\/\//i.test(context)) Object.assign(opts, await urlContext(context));
      else opts.context = context;
      if (f.file === '-') opts.dockerfileText = await readAll(process.stdin as AsyncIterable<Buffer>);
      else if (f.file !== undefined) opts.file = f.file;
      const progress = createBuildProgress(process.stderr, f.quiet ? 'quiet' : (f.progress as ProgressMode));
      opts.progress = progress;
      const r = await cancellableBuild(progress, 'nothing was tagged; run the build again to continue from the cache', (signal) =>
        withEngine(cmd, async (e) => {
          const built = await e.build({ ...opts, signal });
          // A push sends the layers compressed: its manifest (what the registry serves) is the one to report.
          let pushed: { digest: string; size: number } | undefined;
          for (const name of plan.push) {
            const p = await e.push(name);
            pushed ??= p;
          }
          return pushed ? { ...built, manifestDigest: pushed.digest, manifestSize: pushed.size } : built;
        }),
      );
      if (r.contextUpload && globals(cmd).debug) {
        const u = r.contextUpload;
        process.stderr.write(`debug: context upload: ${u.bytes} bytes in ${u.files} file(s), manifest ${u.manifestBytes} bytes\n`);
      }
      if (f.iidfile) await writeOutputFile(f.iidfile, r.id, 'build: --iidfile');
      if (f.metadataFile) await writeOutputFile(f.metadataFile, JSON.stringify(buildMetadata(r, r.tags), null, 2) + '\n', 'build: --metadata-file');
      process.stdout.write(`${r.id}\n`);
    });
}
