import { statSync } from 'node:fs';
import { writeOutputFile } from '../../user-files.js';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { invalidArgument, isErrno, notFound, unavailable } from '../../errors.js';
import { cancellableBuild } from '../build-cancel.js';
import type { BuildOptions, SecretSpec, SshSpec } from '../../builder/types.js';
import { parseCacheFrom, parseCacheTo } from './build-cache-spec.js';
import { gitContext } from './build-git-context.js';
import { isGitUrl } from '../../builder/git.js';
import path from 'node:path';
import { parseCodec, peekHead, sniffCodec } from '../../layer/compress.js';
import { targetPlatforms } from '../../builder/target-platforms.js';
import { sourceDateEpochFromEnv } from '../../layer/diff.js';
import { withEngine } from '../engine.js';
import { globals } from '../context.js';
import { createBuildProgress, type ProgressMode } from '../build-progress.js';
import { buildMetadata, csv, planOutputs } from './build-outputs.js';
import { runCheck } from './build-check.js';
import { keyValues } from '../key-values.js';
import { addJobOptions, runJobBuilds, type JobFlags } from './build-job.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** A context directory that is not there is said as such, not as a missing Dockerfile in it (docker: unable to prepare context). */
function localContext(context: string): string {
  const hint = 'give the directory to build from: kiln build [OPTIONS] PATH | URL | -';
  let st;
  try {
    st = statSync(context);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw notFound(`build context ${context}: no such directory`, { hint });
    throw e;
  }
  if (!st.isDirectory()) throw invalidArgument(`build context ${context} is not a directory`, { hint: 'give the directory to build from, and a Dockerfile elsewhere with -f FILE' });
  return context;
}

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
  job?: boolean;
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
export async function urlContext(url: string): Promise<Pick<BuildOptions, 'contextTar' | 'dockerfileText'>> {
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
  addJobOptions(program.command('build'))
    .description('Build an image from a Dockerfile')
    .argument('<context...>', 'context directory; - to read a tar (or a Dockerfile) from standard input; a git repository (https://…/repo.git#ref:subdir, git@host:repo.git#ref); or an http(s) URL of a tar (or a Dockerfile)')
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
    .option('--platform <platform>', 'target platform(s): os/arch[/variant], comma-separated or repeated; several make one multi-platform index (foreign RUN steps under QEMU)', collect, [])
    .option('--metadata-file <file>', 'write the build result (digests, names) as JSON to this file')
    .option('--cache-from <spec>', 'reuse steps of a BuildKit-format cache: type=registry,ref=HOST/REPO:TAG (or just the ref), type=local,src=DIR (repeatable; one that cannot be read is a warning)', collect, [])
    .option('--cache-to <spec>', 'after the build, write its step cache in BuildKit\'s format: type=registry,ref=HOST/REPO:TAG, type=local,dest=DIR (with [,mode=min|max]) or type=inline', collect, [])
    .option('--check', "run BuildKit's build checks on the Dockerfile and build nothing (exit 1 on a warning)")
    .action(async (contexts: string[], f: Flags, cmd: Command) => {
      if (f.job) return runJobBuilds(contexts, f as Flags & JobFlags, cmd);
      if (contexts.length > 1) throw invalidArgument(`kiln build takes one context, not ${contexts.length}`, { hint: 'several contexts build at once as Jobs: kiln build --job -t REGISTRY/{name}:TAG CTX1 CTX2…' });
      const context = contexts[0]!;
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
        cacheFrom: f.cacheFrom.map(parseCacheFrom),
        cacheTo: f.cacheTo.map(parseCacheTo),
        ...(f.target !== undefined ? { target: f.target } : {}),
        ...(f.platform.length > 0 ? { platforms: targetPlatforms(f.platform) } : {}),
      };
      if (context === '-') Object.assign(opts, await streamContext(process.stdin));
      else if (isGitUrl(context)) opts.context = await gitContext(context);
      else if (/^https?:\/\//i.test(context)) Object.assign(opts, await urlContext(context));
      else opts.context = localContext(context);
      if (f.file === '-') opts.dockerfileText = await readAll(process.stdin as AsyncIterable<Buffer>);
      else if (f.file !== undefined) opts.file = isGitUrl(context) && !path.isAbsolute(f.file) ? path.join(opts.context!, f.file) : f.file;
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
