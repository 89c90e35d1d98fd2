/**
 * The kubeconfig without the Kubernetes client: the everyday kube-backend
 * command (images, build, ps through an installed agent) makes one GET and
 * one port-forward, and loading `@kubernetes/client-node`'s index (every API
 * group's generated code) costs more than both. This reads one kubeconfig file
 * with the YAML parser and serves what those two need: the server, TLS
 * material (CA, client certificate and key, inline or as files relative to
 * the file, `insecure-skip-tls-verify`, `tls-server-name`) and a bearer token.
 *
 * Only the plain cases: anything else — several KUBECONFIG files, in-cluster
 * credentials, exec or auth-provider plugins, basic auth, impersonation, a
 * proxy, a missing file or context — gives undefined, and the caller uses the
 * client library's KubeConfig (./kubeconfig.ts), which also says what is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { KubeFlags } from './kubeconfig.js';
import { DEFAULT_NAMESPACE } from './names.js';

/** What the client library's WebSocketHandler asks of a KubeConfig (port-forward, attach, exec). */
export interface WsConfig {
  getCurrentCluster(): { name: string; server: string; skipTLSVerify: boolean } | null;
  applyToHTTPSOptions(opts: https.RequestOptions & { headers?: Record<string, string> }): Promise<void>;
}

export interface LiteKube {
  context: string;
  server: string;
  namespace: string;
  source: string;
  /** For the client library's PortForward in place of a KubeConfig. */
  kc: WsConfig;
  /** GET an API path (`/api/v1/namespaces/kiln/pods/NAME`) → its JSON; a non-2xx answer throws with `.statusCode`. */
  get(apiPath: string, timeoutMs?: number): Promise<unknown>;
}

type Entry = { name?: unknown; [k: string]: unknown };
const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name']);
const USER_KEYS = new Set(['client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'token']);

function oneFile(flags: KubeFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.kubeconfig) return path.resolve(flags.kubeconfig);
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    return files.length === 1 ? path.resolve(files[0]) : undefined;
  }
  return path.join(env.HOME || os.homedir(), '.kube', 'config');
}

const named = (list: unknown, name: unknown, key: string): Record<string, unknown> | undefined => {
  const e = Array.isArray(list) ? (list as Entry[]).find((x) => x && x.name === name) : undefined;
  const v = e?.[key];
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
};

/** The TLS material and token of the kubeconfig's current (or -x) context, or undefined when it is not a plain case. */
export async function loadLiteKube(flags: KubeFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<LiteKube | undefined> {
  const file = oneFile(flags, env);
  if (!file || !existsSync(file)) return undefined;
  let doc: Record<string, unknown>;
  try {
    const { parse } = await import('../util/yaml-parse.js');
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  const context = flags.context || (typeof doc['current-context'] === 'string' ? doc['current-context'] : '');
  const ctx = named(doc.contexts, context, 'context');
  if (!context || !ctx) return undefined;
  const cluster = named(doc.clusters, ctx.cluster, 'cluster');
  const user = named(doc.users, ctx.user, 'user');
  if (!cluster || !user || typeof cluster.server !== 'string' || !/^https?:\/\//.test(cluster.server)) return undefined;
  if (Object.keys(cluster).some((k) => !CLUSTER_KEYS.has(k) && cluster[k] !== undefined && cluster[k] !== null)) return undefined;
  if (Object.keys(user).some((k) => !USER_KEYS.has(k) && user[k] !== undefined && user[k] !== null)) return undefined;

  const dir = path.dirname(file);
  const material = (fileKey: string, dataKey: string, from: Record<string, unknown>): Buffer | undefined => {
    const f = from[fileKey];
    if (typeof f === 'string' && f) return readFileSync(path.isAbsolute(f) ? f : path.join(dir, f));
    const d = from[dataKey];
    return typeof d === 'string' && d ? Buffer.from(d, 'base64') : undefined;
  };
  let tls: https.RequestOptions;
  try {
    tls = {
      ca: material('certificate-authority', 'certificate-authority-data', cluster),
      cert: material('client-certificate', 'client-certificate-data', user),
      key: material('client-key', 'client-key-data', user),
    };
  } catch {
    return undefined; // an unreadable file: the client library's loader says which
  }
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  if (typeof cluster['tls-server-name'] === 'string') tls.servername = cluster['tls-server-name'];
  const headers: Record<string, string> = typeof user.token === 'string' && user.token ? { Authorization: `Bearer ${user.token}` } : {};
  const server = cluster.server.replace(/\/$/, '');

  const kc: WsConfig = {
    getCurrentCluster: () => ({ name: String(ctx.cluster), server, skipTLSVerify: tls.rejectUnauthorized === false }),
    applyToHTTPSOptions: async (opts) => {
      Object.assign(opts, tls);
      opts.headers = { ...(opts.headers ?? {}), ...headers };
    },
  };
  const get = (apiPath: string, timeoutMs = 15_000) =>
    new Promise<unknown>((resolve, reject) => {
      const url = new URL(server + apiPath);
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(url, { ...tls, method: 'GET', headers: { ...headers, Accept: 'application/json' }, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(Object.assign(new Error(`GET ${apiPath}: HTTP ${status}`), { statusCode: status, body: text }));
          try {
            resolve(JSON.parse(text));
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${apiPath}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  return { context, server, namespace: flags.namespace || DEFAULT_NAMESPACE, source: file, kc, get };
}
