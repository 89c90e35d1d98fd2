import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { cancellableBuild } from '../build-cancel.js';
import { parseCodec } from '../../layer/compress.js';
import { createBuildProgress, type ProgressMode } from '../build-progress.js';
import { keyValues } from '../key-values.js';

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
  cache: boolean;
}

function parseContext(spec: string): { dir: string } | { tar: Readable } {
  if (spec === 'tar://stdin') return { tar: process.stdin };
  if (spec.startsWith('dir://')) return { dir: spec.slice('dir://'.length) };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) return { dir: spec };
  throw invalidArgument(`--context ${spec}: kiln executor takes dir://PATH or tar://stdin`, { hint: 'mount or copy the context into the container and pass dir://PATH' });
}

export function register(program: Command): void {
  program
    .command('executor')
    .description('Build a Dockerfile inside an unprivileged container, in its own root, and push the image (kaniko-style)')
    .option('-c, --context <spec>', 'build context: dir://PATH (or a path) or tar://stdin', 'dir:///workspace')
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
    .option('--no-cache', 'run every step, whatever the step cache in the state dir holds')
    .option('--root <dir>', 'the directory that plays / (for tests)', '/')
    .option('--state-dir <dir>', "kiln's own files: store, scratch, default DOCKER_CONFIG (.docker)", '/kiln')
    .option('--progress <mode>', 'plain, tty or auto', 'plain')
    .option('--force', 'run with --root / even outside a container')
    .action(async (f: Flags) => {
      if (!['auto', 'plain', 'tty'].includes(f.progress)) throw invalidArgument(`--progress ${f.progress}: use auto, plain or tty`);
      const { runExecutor } = await import('../../executor/executor.js');
      const progress = createBuildProgress(process.stderr, f.progress as ProgressMode);
      const r = await cancellableBuild(progress, undefined, (signal) =>
        runExecutor({
          root: f.root,
          stateDir: f.stateDir,
          context: parseContext(f.context),
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
          noCache: !f.cache,
          progress,
          signal,
        }),
      );
      for (const p of r.pushed) process.stderr.write(`pushed ${p}\n`);
      process.stdout.write(`${r.digest}\n`);
    });
}
