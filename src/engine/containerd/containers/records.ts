/**
 * kiln's containers as containerd container records: the runtime is
 * io.containerd.runc.v2, the OCI spec is the record's spec, the writable
 * root is the snapshot named by the container id, and what kiln knows
 * beyond that (the docker flags, the name, the last exit) is a JSON
 * extension, `io.kiln.container`. Labels `io.kiln.name` and `io.kiln.image`
 * mark the record as kiln's (and show in `ctr containers ls --labels`).
 */
import { randomBytes } from 'node:crypto';
import { alreadyExists, invalidArgument, isKilnError, notFound } from '../../../errors.js';
import type { DetailRecord } from '../../containers/detail.js';
import { randomName } from '../../containers/names.js';
import type { ContainerdConnection, Message } from '../grpc.js';
import { restartLabels } from './restart.js';

export const RUNTIME = 'io.containerd.runc.v2';
export const NAME_LABEL = 'io.kiln.name';
export const IMAGE_LABEL = 'io.kiln.image';
const EXTENSION = 'io.kiln.container';
const EXTENSION_TYPE = 'kiln.dev/container/v1';
export const SPEC_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';

/** What kiln keeps about a container, beside containerd's own fields: the fields every backend keeps, and where this one's live. */
export interface CtrRecord extends DetailRecord {
  /** The image's top chain ID: every start prepares a fresh root on it. */
  chainId: string;
  /** The directory (on this machine) with the log, the /etc files and the CNI result. */
  dir: string;
  /**
   * Set while `create` makes the root and the spec (the record comes first, so
   * a kiln killed meanwhile leaves a container `ps -a` shows, dead, and `rm`
   * or a prune removes with its snapshot and the lease named here).
   */
  creating?: { lease: string; pid: number };
  /** Set while containerd's restart monitor keeps the task running (`--restart always`, ./restart.ts). */
  monitor?: { logUri: string };
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const labelsOf = (rec: CtrRecord): Record<string, string> => ({ [NAME_LABEL]: rec.name, [IMAGE_LABEL]: rec.image, ...restartLabels(rec.monitor) });

export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The kiln record of a containerd container; undefined for containers kiln did not make. */
export function recordOf(c: Message): CtrRecord | undefined {
  const ext = (c.extensions as Record<string, Message> | undefined)?.[EXTENSION];
  if (!ext?.value) return undefined;
  return JSON.parse(Buffer.from(ext.value as Uint8Array).toString('utf8')) as CtrRecord;
}

const extension = (rec: CtrRecord) => ({ [EXTENSION]: { type_url: EXTENSION_TYPE, value: Buffer.from(JSON.stringify(rec)) } });

export class CtrRecords {
  constructor(
    private readonly conn: ContainerdConnection,
    private readonly snapshotter: string,
  ) {}

  async list(): Promise<CtrRecord[]> {
    const res = await this.conn.unary('containers', 'List', { filters: [`labels."${NAME_LABEL}"`] }, 'containers');
    return ((res.containers ?? []) as Message[]).flatMap((c) => recordOf(c) ?? []);
  }

  async get(id: string): Promise<CtrRecord | undefined> {
    try {
      return recordOf((await this.conn.unary('containers', 'Get', { id }, `container ${id}`)).container as Message);
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** By name, full id or unique id prefix, as docker finds containers. */
  async resolve(ref: string): Promise<CtrRecord> {
    const all = await this.list();
    const byName = all.find((r) => r.name === ref);
    if (byName) return byName;
    const byId = all.filter((r) => r.id.startsWith(ref));
    if (byId.length === 1 && ref.length > 0) return byId[0]!;
    if (byId.length > 1) throw invalidArgument(`container id prefix ${ref} is ambiguous`, { hint: 'give more characters of the id, or the name' });
    throw notFound(`no such container: ${ref}`, { hint: 'see kiln ps -a' });
  }

  /** A free name: the one asked for (checked), or a generated one. */
  async claimName(wanted?: string): Promise<string> {
    const taken = new Set((await this.list()).map((r) => r.name));
    if (wanted !== undefined) {
      if (!NAME.test(wanted)) throw invalidArgument(`invalid container name "${wanted}"`, { hint: 'names match [a-zA-Z0-9][a-zA-Z0-9_.-]*' });
      if (taken.has(wanted)) throw alreadyExists(`the container name "${wanted}" is already in use`, { hint: `remove that container (kiln rm ${wanted}) or choose another --name` });
      return wanted;
    }
    for (;;) {
      const n = randomName();
      if (!taken.has(n)) return n;
    }
  }

  /** Creates the containerd record with its runtime spec (`{}` until `complete`); the snapshot named by the id is its root. */
  async create(rec: CtrRecord, runtimeSpec: object = {}): Promise<void> {
    const container = {
      id: rec.id,
      labels: labelsOf(rec),
      image: rec.image,
      runtime: { name: RUNTIME },
      spec: { type_url: SPEC_TYPE, value: Buffer.from(JSON.stringify(runtimeSpec)) },
      snapshotter: this.snapshotter,
      snapshot_key: rec.id,
      extensions: extension(rec),
    };
    await this.conn.unary('containers', 'Create', { container }, `container ${rec.name}`);
  }

  async save(rec: CtrRecord): Promise<void> {
    const container = { id: rec.id, labels: labelsOf(rec), extensions: extension(rec) };
    await this.conn.unary('containers', 'Update', { container, update_mask: { paths: ['labels', `extensions.${EXTENSION}`] } }, `container ${rec.name}`);
  }

  /** The runtime spec and the record once made (`creating` dropped). */
  async complete(rec: CtrRecord, runtimeSpec: object): Promise<void> {
    const spec = { type_url: SPEC_TYPE, value: Buffer.from(JSON.stringify(runtimeSpec)) };
    const container = { id: rec.id, labels: labelsOf(rec), spec, extensions: extension(rec) };
    await this.conn.unary('containers', 'Update', { container, update_mask: { paths: ['labels', 'spec', `extensions.${EXTENSION}`] } }, `container ${rec.name}`);
  }

  /** The runtime spec containerd holds for the container. */
  async runtimeSpec(id: string): Promise<Message> {
    const c = (await this.conn.unary('containers', 'Get', { id }, `container ${id}`)).container as Message;
    return JSON.parse(Buffer.from((c.spec as Message).value as Uint8Array).toString('utf8')) as Message;
  }

  async delete(id: string): Promise<void> {
    try {
      await this.conn.unary('containers', 'Delete', { id }, `container ${id}`);
    } catch (e) {
      if (!isKilnError(e, 'NOT_FOUND')) throw e;
    }
  }
}
