/**
 * The instructions that only change the image config (ENV, LABEL, USER,
 * EXPOSE, CMD, ENTRYPOINT, VOLUME, SHELL, HEALTHCHECK, STOPSIGNAL, ONBUILD,
 * MAINTAINER, ARG, and WORKDIR's config half), applied as Docker does.
 */
import path from 'node:path';
import { applyChange } from '../oci/config.js';
import type { ContainerConfig, ImageConfig } from '../oci/types.js';
import type { CommandLine, Instruction } from '../dockerfile/index.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export const shellOf = (c: ContainerConfig | undefined): string[] => (c?.Shell && c.Shell.length > 0 ? c.Shell : DEFAULT_SHELL);

/** A CMD/ENTRYPOINT/RUN command line as the argv it runs. */
export const argvOf = (cmd: CommandLine, shell: string[]): string[] => (cmd.form === 'exec' ? cmd.args : [...shell, cmd.script]);

export interface StageFlags {
  /** CMD was set in this stage (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

/** Applies a metadata instruction (already expanded) to a copy of the config. Returns false for instructions that are not metadata. */
export function applyConfigInstruction(image: ImageConfig, inst: Instruction, flags: StageFlags): boolean {
  const c: ContainerConfig = (image.config ??= {});
  switch (inst.kind) {
    case 'env': {
      const env = [...(c.Env ?? [])];
      for (const { key, value } of inst.pairs) {
        const i = env.findIndex((kv) => kv.slice(0, kv.indexOf('=')) === key);
        if (i >= 0) env[i] = `${key}=${value}`;
        else env.push(`${key}=${value}`);
      }
      c.Env = env;
      return true;
    }
    case 'label':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const { key, value } of inst.pairs) c.Labels[key] = value;
      return true;
    case 'user':
      c.User = inst.user;
      return true;
    case 'expose':
      if (inst.ports.length > 0) Object.assign(image, applyChange(image, `EXPOSE ${inst.ports.join(' ')}`));
      return true;
    case 'cmd':
      c.Cmd = argvOf(inst.command, shellOf(c));
      flags.cmdSet = true;
      return true;
    case 'entrypoint':
      c.Entrypoint = argvOf(inst.command, shellOf(c));
      if (!flags.cmdSet) c.Cmd = null;
      return true;
    case 'volume':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const p of inst.paths) c.Volumes[p] = {};
      return true;
    case 'shell':
      c.Shell = inst.shell;
      return true;
    case 'healthcheck': {
      const h: NonNullable<ContainerConfig['Healthcheck']> = { Test: inst.test };
      if (inst.interval !== undefined) h.Interval = inst.interval;
      if (inst.timeout !== undefined) h.Timeout = inst.timeout;
      if (inst.startPeriod !== undefined) h.StartPeriod = inst.startPeriod;
      if (inst.startInterval !== undefined) h.StartInterval = inst.startInterval;
      if (inst.retries !== undefined) h.Retries = inst.retries;
      c.Healthcheck = h;
      return true;
    }
    case 'stopsignal':
      c.StopSignal = inst.signal;
      return true;
    case 'onbuild':
      c.OnBuild = [...(c.OnBuild ?? []), inst.trigger];
      return true;
    case 'maintainer':
      image.author = inst.name;
      return true;
    case 'arg':
      return true;
    case 'workdir':
      c.WorkingDir = resolveWorkdir(c.WorkingDir, inst.path);
      return true;
    default:
      return false;
  }
}

export const resolveWorkdir = (current: string | undefined, p: string): string => path.posix.resolve(current || '/', p);

/** What `docker history` shows in CREATED BY for the step. */
export function createdBy(inst: Instruction, shell: string[]): string {
  if (inst.kind === 'run') return `RUN ${argvOf(inst.command, shell).join(' ')}`;
  return inst.loc.original.replace(/\s*\n\s*/g, ' ').trim();
}
