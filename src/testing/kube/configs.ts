/**
 * The test cluster's configuration files as text: kubeconfigs, the kubelet's
 * KubeletConfiguration, containerd's config.toml and the CNI bridge network.
 * Every path points inside the cluster's own directory.
 */
import path from 'node:path';
import type { KeyPair } from './pki.js';
import { containerdConfigHead } from '../containerd-config.js';

const q = (s: string) => JSON.stringify(s);

/** A kubeconfig for one client certificate (JSON is valid YAML). */
export function kubeconfig(server: string, caFile: string, user: string, client: KeyPair): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kiln-test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { 'client-certificate': client.cert, 'client-key': client.key } }],
    contexts: [{ name: 'kiln-test', context: { cluster: 'kiln-test', user } }],
    'current-context': 'kiln-test',
  }, null, 2) + '\n';
}

export interface KubeletConfigInput {
  dir: string;
  nodeIP: string;
  caFile: string;
  serving: KeyPair;
  cgroupRoot: string;
  containerdSocket: string;
}

/** The kubelet's configuration: its own cgroup root (cgroupfs driver, cgroup v1 allowed), no iptables chains, no image GC. */
export function kubeletConfig(c: KubeletConfigInput): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: c.nodeIP,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    tlsCertFile: c.serving.cert,
    tlsPrivateKeyFile: c.serving.key,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: c.caFile } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${c.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: c.cgroupRoot,
    cgroupsPerQOS: true,
    failCgroupV1: false,
    failSwapOn: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    makeIPTablesUtilChains: false,
    podLogsDir: path.join(c.dir, 'pod-logs'),
    volumePluginDir: path.join(c.dir, 'volume-plugins'),
    resolvConf: '',
    staticPodPath: '',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    nodeStatusUpdateFrequency: '4s',
    serializeImagePulls: false,
    registerNode: true,
  }, null, 2) + '\n';
}

/** containerd with its own root, state, sockets, runc root and CNI; the pod sandbox is kiln's offline pause image. */
export function containerdConfig(dir: string, sandboxImage: string): string {
  return containerdConfigHead(dir) + `  [plugins."io.containerd.grpc.v1.cri"]
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    sandbox_image = ${q(sandboxImage)}
    netns_mounts_under_state_dir = true
    enable_selinux = false
    # Sandboxes ask for oom_score_adj -998; without CAP_SYS_RESOURCE (as in a
    # container) lowering it fails, so keep it at containerd's own value or above.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = ${q(path.join(dir, 'cni'))}
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = "/usr/sbin/runc"
          Root = ${q(path.join(dir, 'runc'))}
          SystemdCgroup = false
`;
}

/** A bridge network for the pod subnet, inside the node's network namespace; host-local keeps its leases in dir. */
export function cniConfig(name: string, podSubnet: string, ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name,
    plugins: [{
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: podSubnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
    }],
  }, null, 2) + '\n';
}
