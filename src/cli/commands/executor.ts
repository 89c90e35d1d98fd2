import { Option, type Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { cancellableBuild } from '../build-cancel.js';
import { parseCodec } from '../../layer/compress.js';
import { createBuildProgress, type ProgressMode } from '../build-progress.js';
import { keyValues } from '../key-values.js';
import { parseExecutorContext } from './executor-context.js';
import { cacheTtlMs } from '../../executor/cache.js';
import { SNAPSHOT_MODES, type SnapshotMode } from '../../snapshot/walk.js';

const collect = (v: string, acc: string[]) => [...acc, v];

interface Flags {
  context: string;
  dockerfile?: string;
  destination: string[];
  push: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  buildArg: string[];
  target?: string;
  label: string[];
  ignorePath: string[];
  insecureRegistry: string[];
  skipTlsVerify?: boolean;
  root: string;
  stateDir: string;
  compression?: string;
  progress: string;
  force?: boolean;
  /** --cache[=true|false] (kaniko's remote cache); --no-cache makes it false (every step runs). */
  cache?: boolean | string;
  cacheRepo?: string;
  cacheTtl?: string;
  reproducible?: boolean | string;
  singleSnapshot?: boolean | string;
  snapshotMode?: string;
  registryMirror: string[];
  dockerfileName?: string;
}

/** kaniko's boolean flags also come as --flag=true|false. */
function flagBool(v: boolean | string | undefined, flag: string): boolean {
  if (v === undefined || typeof v === 'boolean') return Boolean(v);
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidArgument(`${flag}=${v}: use true or false`);
}

export function register(program: Command): void {
  program
    .command('executor')
    .description('Build a Dockerfile inside an unprivileged container, in its own root, and push the image (kaniko-style)')
    .option('-c, --context <spec>', 'build context: dir://PATH (or a path), tar://stdin, http(s)://… (a tar), or git (git://HOST/REPO#REF, https://HOST/REPO.git#REF)', 'dir:///workspace')
    .option('-f, --dockerfile <file>', 'the Dockerfile, relative to the context or absolute (default: Dockerfile)')
    .option('-d, --destination <name>', 'push the image to this name (repeatable)', collect, [])
    .option('--no-push', 'build without pushing')
    .option('--tar-path <file>', 'also write the image as a docker archive (docker load) to this file')
    .option('--oci-layout-path <dir>', 'also write the image as an OCI image layout in this directory')
    .option('--digest-file <file>', 'write the image manifest digest to this file')
    .option('--image-name-with-digest-file <file>', 'write NAME@DIGEST of every destination to this file')
    .option('--build-arg <k=v>', 'set a build-time variable (repeatable)', collect, [])
    .option('--target <stage>', 'build this stage and what it needs')
    .option('--label <k=v>', 'set an image label (repeatable)', collect, [])
    .option('--ignore-path <path>', 'leave this path out of snapshots and layers (repeatable)', collect, [])
    .option('--insecure-registry <host>', 'reach this registry over plain HTTP or unverified TLS (repeatable)', collect, [])
    .option('--skip-tls-verify', 'do not verify the TLS certificates of the destinations')
    .option('--compression <codec>', 'layer compression: gzip (default), zstd or none')
    .option('--cache [bool]', 'use a remote layer cache in a registry (--cache-repo): every step looked up, new steps pushed')
    .option('--cache-repo <repo>', 'the cache repository (REGISTRY/REPO[:TAG]; default: the first destination + /cache)')
    .option('--cache-ttl <duration>', 'ignore cache entries older than this (Go duration: 6h, 30m)', '336h')
    .option('--no-cache', 'run every step, whatever the step cache in the state dir holds')
    .option('--reproducible [bool]', 'times in the config and layers set to the epoch (SOURCE_DATE_EPOCH=0): the same digest on every run')
    .option('--single-snapshot [bool]', "one layer for what the build adds on the final stage's base image")
    .option('--snapshot-mode <mode>', 'how changes are found: full (content hashes), redo (mode, size, mtime, owner) or time (mtime only); default: every stat field')
    .option('--registry-mirror <host>', "pull Docker Hub's images from this mirror first (repeatable)", collect, [])
    .addOption(new Option('--dockerfile-name <name>', 'how messages name the Dockerfile').hideHelp())
    .option('--root <dir>', 'the directory that plays / (for tests)', '/')
    .option('--state-dir <dir>', "kiln's own files: store, scratch, default DOCKER_CONFIG (.docker)", '/kiln')
    .option('--progress <mode>', 'plain, tty or auto', 'plain')
    .option('--force', 'run with --root / even outside a container')
    .action(async (f: Flags) => {
      if (!['auto', 'plain', 'tty'].includes(f.progress)) throw invalidArgument(`--progress ${f.progress}: use auto, plain or tty`);
      const cache = f.cache !== false && flagBool(f.cache, '--cache');
      if (f.snapshotMode !== undefined && !(SNAPSHOT_MODES as readonly string[]).includes(f.snapshotMode)) {
        throw invalidArgument(`--snapshot-mode ${f.snapshotMode}: use ${SNAPSHOT_MODES.join(', ')}`);
      }
      if (f.cacheTtl !== undefined) cacheTtlMs(f.cacheTtl);
      const { runExecutor } = await import('../../executor/executor.js');
      const progress = createBuildProgress(process.stderr, f.progress as ProgressMode);
      const r = await cancellableBuild(progress, undefined, (signal) =>
        runExecutor({
          root: f.root,
          stateDir: f.stateDir,
          context: parseExecutorContext(f.context),
          ...(cache ? { cache: { ...(f.cacheRepo ? { repo: f.cacheRepo } : {}), ...(f.cacheTtl ? { ttl: f.cacheTtl } : {}) } } : {}),
          reproducible: flagBool(f.reproducible, '--reproducible'),
          singleSnapshot: flagBool(f.singleSnapshot, '--single-snapshot'),
          ...(f.snapshotMode ? { snapshotMode: f.snapshotMode as SnapshotMode } : {}),
          registryMirrors: f.registryMirror,
          ...(f.dockerfileName ? { dockerfileName: f.dockerfileName } : {}),
          ...(f.dockerfile !== undefined ? { dockerfile: f.dockerfile } : {}),
          destinations: f.destination,
          noPush: !f.push,
          ...(f.tarPath ? { tarPath: f.tarPath } : {}),
          ...(f.ociLayoutPath ? { ociLayoutPath: f.ociLayoutPath } : {}),
          ...(f.digestFile ? { digestFile: f.digestFile } : {}),
          ...(f.imageNameWithDigestFile ? { imageNameWithDigestFile: f.imageNameWithDigestFile } : {}),
          buildArgs: keyValues(f.buildArg, '--build-arg', true),
          ...(f.target ? { target: f.target } : {}),
          labels: keyValues(f.label, '--label', false),
          ignorePaths: f.ignorePath,
          insecureRegistries: f.insecureRegistry,
          skipTlsVerify: Boolean(f.skipTlsVerify),
          ...(f.compression ? { compression: parseCodec(f.compression) } : {}),
          force: Boolean(f.force),
          noCache: f.cache === false,
          progress,
          signal,
        }),
      );
      for (const p of r.pushed) process.stderr.write(`pushed ${p}\n`);
      process.stdout.write(`${r.digest}\n`);
    });
}
