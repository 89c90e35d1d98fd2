/**
 * The test cluster's certificates, made with openssl (P-256 keys, 2 days):
 * one cluster CA for every component, a front-proxy CA, the service-account
 * key pair, and a client certificate for each identity that needs one.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: KeyPair;
  frontProxyCa: KeyPair;
  apiserver: KeyPair;
  apiserverKubeletClient: KeyPair;
  frontProxyClient: KeyPair;
  kubeletServing: KeyPair;
  serviceAccount: { key: string; pub: string };
  /** Client certificates for the kubeconfigs: admin, controller-manager, scheduler, kubelet. */
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  kubelet: KeyPair;
}

export interface PkiNames {
  nodeName: string;
  nodeIP: string;
  /** The first address of the service range: the `kubernetes` Service's ClusterIP. */
  serviceIP: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const CLIENT = ['-addext', 'extendedKeyUsage=clientAuth', '-addext', 'keyUsage=critical,digitalSignature'];
const SERVER = ['-addext', 'extendedKeyUsage=serverAuth', '-addext', 'keyUsage=critical,digitalSignature'];

export async function makeClusterPki(dir: string, names: PkiNames): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, 'openssl.cnf');
  await writeFile(config, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n');
  const pair = (name: string): KeyPair => ({ cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) });

  const selfSigned = async (name: string, cn: string) => {
    const p = pair(name);
    await run('openssl', ['req', '-config', config, '-x509', ...EC, '-keyout', p.key, '-out', p.cert, '-subj', `/CN=${cn}`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
    return p;
  };
  const signed = async (ca: KeyPair, name: string, subject: string, ext: string[]) => {
    const p = pair(name);
    await run('openssl', ['req', '-config', config, '-x509', '-CA', ca.cert, '-CAkey', ca.key, ...EC, '-keyout', p.key, '-out', p.cert,
      '-subj', subject, '-days', '2', ...ext]);
    return p;
  };

  const [ca, frontProxyCa] = await Promise.all([selfSigned('ca', 'kiln test kubernetes'), selfSigned('front-proxy-ca', 'kiln test front-proxy')]);
  const { nodeName, nodeIP, serviceIP } = names;
  const apiserverSans = `subjectAltName=IP:${serviceIP},IP:${nodeIP},IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:localhost`;
  const saKey = path.join(dir, 'sa.key');
  const saPub = path.join(dir, 'sa.pub');
  const [apiserver, apiserverKubeletClient, frontProxyClient, kubeletServing, admin, controllerManager, scheduler, kubelet] = await Promise.all([
    signed(ca, 'apiserver', '/CN=kube-apiserver', [...SERVER, '-addext', apiserverSans]),
    signed(ca, 'apiserver-kubelet-client', '/CN=kube-apiserver-kubelet-client/O=system:masters', CLIENT),
    signed(frontProxyCa, 'front-proxy-client', '/CN=front-proxy-client', CLIENT),
    signed(ca, 'kubelet-serving', `/CN=${nodeName}`, [...SERVER, '-addext', `subjectAltName=IP:${nodeIP},DNS:${nodeName}`]),
    signed(ca, 'admin', '/CN=kubernetes-admin/O=system:masters', CLIENT),
    signed(ca, 'controller-manager', '/CN=system:kube-controller-manager', CLIENT),
    signed(ca, 'scheduler', '/CN=system:kube-scheduler', CLIENT),
    signed(ca, 'kubelet', `/CN=system:node:${nodeName}/O=system:nodes`, CLIENT),
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', saKey]).then(() =>
      run('openssl', ['pkey', '-in', saKey, '-pubout', '-out', saPub])),
  ]);
  return {
    dir, ca, frontProxyCa, apiserver: apiserver!, apiserverKubeletClient: apiserverKubeletClient!, frontProxyClient: frontProxyClient!,
    kubeletServing: kubeletServing!, serviceAccount: { key: saKey, pub: saPub },
    admin: admin!, controllerManager: controllerManager!, scheduler: scheduler!, kubelet: kubelet!,
  };
}
