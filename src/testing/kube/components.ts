/**
 * The command line of each cluster component. Everything listens inside the
 * node's network namespace: etcd and the controllers on its loopback, the API
 * server and the kubelet on the node address.
 */
import path from 'node:path';
import type { ClusterPki } from './pki.js';

export const SERVICE_RANGE = '10.96.0.0/24';
export const SERVICE_IP = '10.96.0.1';
export const POD_SUBNET = '10.244.0.0/24';
export const NODE_IP = '10.201.0.2';
export const NODE_CIDR = `${NODE_IP}/24`;
export const API_PORT = 6443;

export interface Layout {
  dir: string;
  kube: string;
  pki: ClusterPki;
  kubeconfigs: { admin: string; controllerManager: string; scheduler: string; kubelet: string };
}

export const etcdArgs = (l: Layout): string[] => [
  l.kube, 'etcd', '--data-dir', path.join(l.dir, 'etcd'),
  '--listen-client-url', 'http://127.0.0.1:2379', '--listen-peer-url', 'http://127.0.0.1:2380',
];

export function apiserverArgs(l: Layout): string[] {
  const p = l.pki;
  return [
    l.kube, 'kube-apiserver',
    '--etcd-servers=http://127.0.0.1:2379',
    `--advertise-address=${NODE_IP}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${API_PORT}`,
    `--cert-dir=${path.join(l.dir, 'apiserver')}`,
    `--service-cluster-ip-range=${SERVICE_RANGE}`,
    `--client-ca-file=${p.ca.cert}`,
    `--tls-cert-file=${p.apiserver.cert}`,
    `--tls-private-key-file=${p.apiserver.key}`,
    `--kubelet-client-certificate=${p.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${p.apiserverKubeletClient.key}`,
    `--kubelet-certificate-authority=${p.ca.cert}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-key-file=${p.serviceAccount.pub}`,
    `--service-account-signing-key-file=${p.serviceAccount.key}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--requestheader-client-ca-file=${p.frontProxyCa.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${p.frontProxyClient.cert}`,
    `--proxy-client-key-file=${p.frontProxyClient.key}`,
    '--profiling=false',
  ];
}

export const controllerManagerArgs = (l: Layout): string[] => [
  l.kube, 'kube-controller-manager',
  `--kubeconfig=${l.kubeconfigs.controllerManager}`,
  `--authentication-kubeconfig=${l.kubeconfigs.controllerManager}`,
  `--authorization-kubeconfig=${l.kubeconfigs.controllerManager}`,
  '--bind-address=127.0.0.1',
  `--cert-dir=${path.join(l.dir, 'controller-manager')}`,
  `--cluster-signing-cert-file=${l.pki.ca.cert}`,
  `--cluster-signing-key-file=${l.pki.ca.key}`,
  `--root-ca-file=${l.pki.ca.cert}`,
  `--service-account-private-key-file=${l.pki.serviceAccount.key}`,
  '--use-service-account-credentials=true',
  '--leader-elect=false',
  '--profiling=false',
];

export const schedulerArgs = (l: Layout): string[] => [
  l.kube, 'kube-scheduler',
  `--kubeconfig=${l.kubeconfigs.scheduler}`,
  `--authentication-kubeconfig=${l.kubeconfigs.scheduler}`,
  `--authorization-kubeconfig=${l.kubeconfigs.scheduler}`,
  '--bind-address=127.0.0.1',
  `--cert-dir=${path.join(l.dir, 'scheduler')}`,
  '--leader-elect=false',
  '--profiling=false',
];

export const kubeletArgs = (l: Layout, nodeName: string): string[] => [
  l.kube, 'kubelet',
  `--config=${path.join(l.dir, 'kubelet.yaml')}`,
  `--kubeconfig=${l.kubeconfigs.kubelet}`,
  `--root-dir=${path.join(l.dir, 'kubelet')}`,
  `--cert-dir=${path.join(l.dir, 'kubelet', 'pki')}`,
  `--node-ip=${NODE_IP}`,
  `--hostname-override=${nodeName}`,
];

export const containerdArgs = (dir: string): string[] => ['/usr/bin/containerd', '--config', path.join(dir, 'config.toml')];
