/**
 * Git's smart HTTP on 127.0.0.1: Debian's `git http-backend` (a CGI program)
 * behind a small Node HTTP server, serving the bare repositories under a temp
 * dir. Repositories are made with the real git from a map of files, one
 * commit per call, with branches and tags.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './tempdir.js';

const run = promisify(execFile);
const BACKEND = '/usr/lib/git-core/git-http-backend';

export interface TestGitServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  dir: string;
  /** Commits `files` on `branch` of the bare repository NAME (made when missing); answers the commit ID. */
  commit(name: string, files: Record<string, string>, opts?: { branch?: string; tag?: string; message?: string }): Promise<string>;
  stop(): Promise<void>;
}

const GIT_ENV = { GIT_AUTHOR_NAME: 'kiln test', GIT_AUTHOR_EMAIL: 'test@kiln.invalid', GIT_COMMITTER_NAME: 'kiln test', GIT_COMMITTER_EMAIL: 'test@kiln.invalid', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' };
const git = (args: string[], cwd?: string) => run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });

export async function startGitServer(): Promise<TestGitServer> {
  const dir = await tempDir('kiln-git-');
  const repos = path.join(dir, 'repos');
  mkdirSync(repos);
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: repos,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
    };
    const cgi = spawn(BACKEND, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    req.pipe(cgi.stdin);
    // CGI output: headers (Status: …), a blank line, the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sep = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sep = 2;
      }
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(end + sep));
    });
    cgi.stdout.on('end', () => {
      if (!headersDone) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let n = 0;
  return {
    url,
    dir,
    async commit(name, files, opts = {}) {
      const bare = path.join(repos, name);
      const branch = opts.branch ?? 'main';
      const work = path.join(dir, `work-${n++}`);
      await git(['init', '-q', '--bare', '-b', 'main', bare]).catch(() => undefined);
      await git(['clone', '-q', bare, work]);
      const has = (await git(['ls-remote', '--heads', bare, branch])).stdout.trim() !== '';
      if (has) await git(['checkout', '-q', branch], work);
      else await git(['checkout', '-q', '--orphan', branch], work);
      for (const [f, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
        writeFileSync(path.join(work, f), content);
      }
      await git(['add', '-A'], work);
      await git(['commit', '-q', '-m', opts.message ?? `commit ${n}`], work);
      if (opts.tag) await git(['tag', '-a', '-m', opts.tag, opts.tag], work);
      await git(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`, ...(opts.tag ? [`refs/tags/${opts.tag}`] : [])], work);
      return (await git(['rev-parse', 'HEAD'], work)).stdout.trim();
    },
    async stop() {
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
