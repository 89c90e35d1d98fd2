/**
 * Named volumes: `ROOT/volumes/<name>/_data` plus `volume.json` (created
 * time, labels). A new volume mounted where the image has files starts with
 * a copy of them, as Docker does (seeded once, marked by `.seeded`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { alreadyExists, internal, invalidArgument, isErrno, notFound } from '../../errors.js';
import { writeFileAtomic } from '../../util/fsutil.js';

// Made on first use: the packaged executable loads node:child_process only when something runs (ps never does).
const run = (file: string, args: string[]) => promisify(execFile)(file, args);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface Volume {
  name: string;
  driver: 'local';
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
}

export class VolumeStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'volumes');
  }

  dataDir(name: string): string {
    return path.join(this.dir, name, '_data');
  }

  async get(name: string): Promise<Volume | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, name, 'volume.json'), 'utf8')) as Volume;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
      throw e;
    }
  }

  async inspect(name: string): Promise<Volume> {
    const v = NAME.test(name) ? await this.get(name) : undefined;
    if (!v) throw notFound(`no such volume: ${name}`, { hint: 'list volumes with `kiln volume ls`' });
    return v;
  }

  /** Creates a volume (a random name when none is given); `exclusive` fails when it exists. */
  async create(name?: string, opts: { labels?: Record<string, string>; exclusive?: boolean } = {}): Promise<Volume> {
    const n = name ?? randomBytes(32).toString('hex');
    if (!NAME.test(n)) throw invalidArgument(`invalid volume name "${n}"`, { hint: 'only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' });
    const existing = await this.get(n);
    if (existing) {
      if (opts.exclusive) throw alreadyExists(`volume ${n} already exists`, { hint: 'pick another name' });
      return existing;
    }
    const v: Volume = { name: n, driver: 'local', mountpoint: this.dataDir(n), createdAt: new Date().toISOString(), labels: opts.labels ?? {} };
    await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
    await writeFileAtomic(path.join(this.dir, n, 'volume.json'), JSON.stringify(v, null, 2) + '\n');
    return v;
  }

  async list(): Promise<Volume[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const all = await Promise.all(names.map((n) => this.get(n)));
    return all.filter((v): v is Volume => v !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    await this.inspect(name);
    await rm(path.join(this.dir, name), { recursive: true, force: true });
  }

  /** Copies the image's content at `from` into a volume that was never seeded and is empty. */
  async seed(name: string, from: string): Promise<void> {
    const marker = path.join(this.dir, name, '.seeded');
    try {
      await stat(marker);
      return;
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    const data = this.dataDir(name);
    if ((await readdir(data)).length === 0) {
      let isDir = false;
      try {
        isDir = (await stat(from)).isDirectory();
      } catch (e) {
        if (!isErrno(e, 'ENOENT') && !isErrno(e, 'ENOTDIR')) throw e;
      }
      if (isDir) {
        await run('cp', ['-a', `${from}/.`, data]).catch((e: Error & { stderr?: string }) => {
          throw internal(`seeding volume ${name} from ${from}: ${e.stderr?.trim() || e.message}`, { cause: e });
        });
      }
    }
    await writeFile(marker, '');
  }
}
