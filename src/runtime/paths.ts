/**
 * Where a container lives under kiln's state dir:
 *   <state>/runc/                     runc's --root (its own state)
 *   <state>/containers/<id>/          the bundle: config.json, hosts files,
 *                                     container.log (CRI), exit.json, monitor.pid, runc.log
 */
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';

export interface ContainerPaths {
  runcRoot: string;
  bundle: string;
  config: string;
  log: string;
  exit: string;
  monitorPid: string;
  runcLog: string;
  monitorLog: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkId(id: string): string {
  if (!ID.test(id)) {
    throw invalidArgument(`invalid container id "${id}"`, { hint: 'use letters, digits, "_", "." and "-", starting with a letter or digit' });
  }
  return id;
}

export const runcRoot = (stateDir: string): string => join(stateDir, 'runc');

export function containerPaths(stateDir: string, id: string): ContainerPaths {
  const bundle = join(stateDir, 'containers', checkId(id));
  return {
    runcRoot: runcRoot(stateDir),
    bundle,
    config: join(bundle, 'config.json'),
    log: join(bundle, 'container.log'),
    exit: join(bundle, 'exit.json'),
    monitorPid: join(bundle, 'monitor.pid'),
    runcLog: join(bundle, 'runc.log'),
    monitorLog: join(bundle, 'monitor.log'),
  };
}
