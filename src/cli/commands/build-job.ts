/**
 * `kiln build --job [--push] -t REGISTRY/NAME[:TAG] CONTEXT…`: the build runs
 * as a Kubernetes Job (kiln executor in an unprivileged pod, src/kube/job) in
 * the kubeconfig's current context, pushes, and reports the digest. Several
 * contexts build at once (`--parallel N`); then every -t names `{name}`, the
 * context directory's name, and -f is a path inside each context.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { invalidArgument, isKilnError, KilnError, notFound } from '../../errors.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';
import { writeOutputFile } from '../../user-files.js';
import { kilnVersion } from '../../version.js';
import { cancellableBuild } from '../build-cancel.js';
import { globals } from '../context.js';
import { keyValues } from '../key-values.js';
import { jobCacheRepo } from './build-job-cache.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export interface JobFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  label: string[];
  push?: boolean;
  quiet?: boolean;
  metadataFile?: string;
  compression?: string;
  jobImage?: string;
  jobPullPolicy: string;
  jobNamespace?: string;
  keepJob?: boolean;
  jobCpu?: string;
  jobMemory?: string;
  parallel: string;
  insecureRegistry: string[];
  // Build flags a Job cannot honour (refused).
  secret: string[];
  ssh: string[];
  output: string[];
  cacheFrom: string[];
  cacheTo: string[];
  addHost: string[];
  network: string;
  iidfile?: string;
  pull?: boolean;
  cache: boolean;
  platform: string[];
  check?: boolean;
}

/** The options `kiln build` gets for build Jobs. */
export function addJobOptions(cmd: Command): Command {
  return cmd
    .option('--job', 'run the build as a Kubernetes Job (kiln executor in an unprivileged pod) in the kubeconfig context, and push the -t names')
    .option('--push', 'push every -t name after the build (-o type=registry)')
    .option('--no-push', 'with --job: build without pushing (a check that it builds)')
    .option('--job-image <image>', "with --job: kiln's image for the pod (default kiln:VERSION, made by kiln system agent-image)")
    .option('--job-pull-policy <policy>', 'with --job: IfNotPresent, Never or Always', 'IfNotPresent')
    .option('--job-namespace <ns>', "with --job: the namespace of the Job (default: the kubeconfig context's, else default)")
    .option('--job-cpu <amount>', 'with --job: CPU request and limit of the build container (e.g. 1, 500m)')
    .option('--job-memory <amount>', 'with --job: memory request and limit of the build container (e.g. 2Gi)')
    .option('--keep-job', 'with --job: keep the Job, its pod and Secret after the build (for debugging)')
    .option('--parallel <n>', 'with --job and several contexts: how many builds run at once', '4')
    .option('--insecure-registry <host>', 'with --job: reach this registry over plain HTTP or unverified TLS (repeatable)', collect, []);
}

function refuseUnsupported(f: JobFlags): void {
  const bad: [boolean, string][] = [
    [f.secret.length > 0, '--secret'], [f.ssh.length > 0, '--ssh'], [f.output.length > 0, '-o/--output'], [f.addHost.length > 0, '--add-host'], [f.network !== 'host', '--network'], [f.iidfile !== undefined, '--iidfile'],
    [Boolean(f.pull), '--pull'], [!f.cache, '--no-cache'], [f.platform.length > 0, '--platform'], [Boolean(f.check), '--check'],
  ];
  const named = bad.filter(([b]) => b).map(([, n]) => n);
  if (named.length > 0) throw invalidArgument(`kiln build --job does not take ${named.join(', ')}`, { hint: 'drop them, or build without --job' });
  if (!['IfNotPresent', 'Never', 'Always'].includes(f.jobPullPolicy)) throw invalidArgument(`--job-pull-policy ${f.jobPullPolicy}: use IfNotPresent, Never or Always`);
}

interface Planned {
  label: string;
  context: string;
  dockerfile: string;
  dockerfilePath?: string;
  /** How messages name the Dockerfile: -f as the user typed it (else Dockerfile). */
  dockerfileName: string;
  destinations: string[];
}

async function planBuild(context: string, f: JobFlags, many: boolean): Promise<Planned> {
  if (context === '-' || /^[a-z]+:\/\//i.test(context)) throw invalidArgument(`kiln build --job ${context}: the context must be a directory`, { hint: 'pass a directory (a Job gets it as a tar through the API server)' });
  const dir = path.resolve(context);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw notFound(`build context ${context}: no such directory`, { hint: 'pass the directory that holds the Dockerfile and the files it copies' });
  const label = path.basename(dir);
  const destinations = f.tag.map((t) => {
    const name = t.replaceAll('{name}', label.toLowerCase());
    try {
      return formatReference(parseNormalizedNamed(name));
    } catch (e) {
      throw invalidArgument(`-t ${t}: ${(e as Error).message}`, { cause: e, hint: 'use -t REGISTRY/NAME[:TAG]' });
    }
  });
  let dockerfilePath: string | undefined;
  let dockerfile: string;
  if (f.file === '-') {
    if (many) throw invalidArgument('-f - reads one Dockerfile from standard input: not with several contexts');
    const parts: Buffer[] = [];
    for await (const c of process.stdin) parts.push(c as Buffer);
    dockerfile = Buffer.concat(parts).toString('utf8');
  } else {
    dockerfilePath = f.file === undefined ? path.join(dir, 'Dockerfile') : many ? path.join(dir, f.file) : path.resolve(f.file);
    dockerfile = await readFile(dockerfilePath, 'utf8').catch(() => {
      throw notFound(`Dockerfile ${dockerfilePath}: no such file`, { hint: f.file === undefined ? 'put a Dockerfile in the context, or pass -f FILE' : 'check the path given to -f' });
    });
  }
  if (Buffer.byteLength(dockerfile) > 900 * 1024) throw invalidArgument(`Dockerfile ${dockerfilePath ?? '(stdin)'}: over 900 KiB, more than a Kubernetes Secret holds`);
  const dockerfileName = f.file === undefined || f.file === '-' ? 'Dockerfile' : f.file;
  return { label, context: dir, dockerfile, ...(dockerfilePath ? { dockerfilePath } : {}), dockerfileName, destinations };
}

export async function runJobBuilds(contexts: string[], f: JobFlags, cmd: Command): Promise<void> {
  refuseUnsupported(f);
  const cacheRepo = jobCacheRepo(f.cacheFrom, f.cacheTo);
  const many = contexts.length > 1;
  const push = f.push !== false;
  if (f.tag.length === 0 && push) throw invalidArgument('kiln build --job pushes the image: no -t REGISTRY/NAME[:TAG] given', { hint: 'pass -t, or --no-push to only build' });
  if (many && f.tag.some((t) => !t.includes('{name}'))) {
    throw invalidArgument('several contexts: every -t must contain {name} (the context directory\'s name), or all builds would push to one name', { hint: 'e.g. -t registry.example:5000/{name}:1.0' });
  }
  const parallel = Number(f.parallel);
  if (!Number.isInteger(parallel) || parallel < 1) throw invalidArgument(`--parallel ${f.parallel}: a whole number from 1`);
  const plans = await Promise.all(contexts.map((c) => planBuild(c, f, many)));
  const labels = plans.map((p) => p.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) throw invalidArgument(`two contexts are named ${twice}: {name} would be the same for both`, { hint: 'rename one directory' });

  const g = globals(cmd);
  const [{ loadKube }, { serverVersion }, { DockerConfigCredentials }, { jobCredentials }, { contextTar }, { jobName }, { runBuildJobs }, { parseCodec }] = await Promise.all([
    import('../../kube/kubeconfig.js'), import('../../kube/api.js'), import('../../registry/credentials.js'), import('../../kube/job/credentials.js'),
    import('../../dockerfile/context/tar.js'), import('../../kube/job/run.js'), import('../../kube/job/many.js'), import('../../layer/compress.js'),
  ]);
  if (f.compression !== undefined) parseCodec(f.compression);
  const k = loadKube({ ...(g.kubeconfig ? { kubeconfig: g.kubeconfig } : {}), ...(g.context ? { context: g.context } : {}) });
  const namespace = f.jobNamespace || k.kc.getContextObject(k.context)?.namespace || 'default';
  await serverVersion(k);
  const version = kilnVersion();
  const creds = new DockerConfigCredentials();
  const builds = await Promise.all(plans.map(async (p) => {
    const hosts = [...(push ? p.destinations : []), ...(cacheRepo ? [cacheRepo] : [])];
    const dockerConfigJson = hosts.length > 0 ? (await jobCredentials(hosts, creds)).json : '{"auths":{}}';
    const spec = {
      name: jobName(p.destinations.length ? p.destinations : [p.label]), namespace, image: f.jobImage ?? `kiln:${version}`, imagePullPolicy: f.jobPullPolicy as 'IfNotPresent',
      version, destinations: p.destinations, noPush: !push, buildArgs: keyValues(f.buildArg, '--build-arg', true), labels: keyValues(f.label, '--label', false),
      ...(f.target ? { target: f.target } : {}), insecureRegistries: f.insecureRegistry, keep: Boolean(f.keepJob),
      resources: { ...(f.jobCpu ? { cpu: f.jobCpu } : {}), ...(f.jobMemory ? { memory: f.jobMemory } : {}) }, compression: f.compression,
      dockerfileName: p.dockerfileName, ...(cacheRepo ? { cacheRepo } : {}),
    };
    return { label: p.label, req: { spec, dockerfile: p.dockerfile, dockerConfigJson, context: () => contextTar(p.context, p.dockerfilePath ? { dockerfile: p.dockerfilePath } : {}) } };
  }));

  const outcomes = await cancellableBuild({ done() {} }, undefined, (signal) => runBuildJobs(k, builds, { parallel, output: process.stderr, quiet: Boolean(f.quiet), signal }));
  const failed = outcomes.filter((o) => o.error || o.result?.exitCode !== 0);
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const why = (o: (typeof outcomes)[number]) => (o.error ? (isKilnError(o.error) ? o.error.message : String(o.error.message)) : `the build exited with ${o.result!.exitCode} (its output is above)`);
  for (const o of outcomes) {
    const prefix = many ? `[${o.label}] ` : '';
    const r = o.result;
    if (o.error || !r || r.exitCode !== 0) {
      if (many) process.stderr.write(`${prefix}failed in ${secs(o.ms)}: ${why(o)}\n`);
      continue;
    }
    const say = (line: string) => f.quiet || process.stderr.write(line);
    if (!push) say(`${prefix}built in ${secs(o.ms)} (Job ${r.namespace}/${r.job}) digest: ${r.digest ?? '?'}\n`);
    for (const d of o.destinations) if (push) say(`${prefix}pushed ${d} digest: ${r.digest ?? '?'} in ${secs(o.ms)} (Job ${r.namespace}/${r.job})\n`);
    if (many) for (const d of o.destinations) process.stdout.write(`${d.replace(/:[^:/@]+$/, '')}@${r.digest}\n`);
    else process.stdout.write(`${r.digest ?? ''}\n`);
  }
  if (f.metadataFile) {
    const meta = (o: (typeof outcomes)[number]) => ({ 'containerimage.digest': o.result?.digest, 'image.name': o.destinations.join(','), 'kiln.job': o.result ? `${o.result.namespace}/${o.result.job}` : undefined, 'kiln.exit-code': o.result?.exitCode });
    const doc = many ? Object.fromEntries(outcomes.map((o) => [o.label, meta(o)])) : meta(outcomes[0]!);
    await writeOutputFile(f.metadataFile, JSON.stringify(doc, null, 2) + '\n', 'build: --metadata-file');
  }
  if (failed.length === 0) return;
  if (!many) {
    const o = failed[0]!;
    const exitCode = o.result?.exitCode ?? (isKilnError(o.error) ? o.error.exitCode : 1);
    if (o.error) throw o.error;
    throw new KilnError('FAILED_PRECONDITION', `build Job ${o.result!.namespace}/${o.result!.job} failed: ${why(o)}`, { exitCode });
  }
  throw new KilnError('FAILED_PRECONDITION', `${failed.length} of ${outcomes.length} builds failed: ${failed.map((o) => o.label).join(', ')}`, { exitCode: 1 });
}
