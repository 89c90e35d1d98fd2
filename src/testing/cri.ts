/**
 * A CRI ImageService client for tests: asks containerd's CRI plugin, over the
 * containerd socket, what the kubelet sees (ListImages, ImageStatus).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from './kiln.js';

export interface CriImage {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: number;
}

export interface CriImageService {
  listImages(): Promise<CriImage[]>;
  /** The image the CRI resolves `image` to (a name, `name@digest` or ID), or undefined. */
  imageStatus(image: string): Promise<CriImage | undefined>;
  close(): void;
}

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;

export function criImageService(address: string): CriImageService {
  const def = protoLoader.loadSync(path.join(repoRoot(), 'src', 'testing', 'cri', 'images.proto'), { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { ImageService: grpc.ServiceClientConstructor } } };
  const client = new pkg.runtime.v1.ImageService(`unix://${address}`, grpc.credentials.createInsecure()) as unknown as Record<string, Unary> & grpc.Client;
  const call = (method: string, req: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => client[method]!.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
  return {
    async listImages() {
      return (await call('ListImages', {})).images as CriImage[];
    },
    async imageStatus(image: string) {
      const res = await call('ImageStatus', { image: { image } });
      return (res.image as CriImage | null) ?? undefined;
    },
    close: () => client.close(),
  };
}
