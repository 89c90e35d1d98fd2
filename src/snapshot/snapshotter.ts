/**
 * The snapshotter contract (containerd's shape, reduced): an image's layers
 * unpacked once, keyed by chain ID, shared by every container; a container
 * gets a writable root on top (Prepare) that Remove takes away.
 */
export interface Mounted {
  /** The container's root filesystem path, ready for runc. */
  rootfs: string;
  /** How it was made: an overlay mount or a full copy. */
  kind: 'overlay' | 'copy';
  /** The overlay's upper directory (the container's changes), when kind is overlay. */
  upper?: string;
}

export interface Snapshotter {
  /** Unpacks the chain (each layer once) and returns the directory of the top chain ID. */
  unpack(layers: { chainId: string; open: () => Promise<NodeJS.ReadableStream> }[]): Promise<string>;
  /** A writable root for `key` on top of an unpacked chain. */
  prepare(key: string, chainDir: string): Promise<Mounted>;
  /** Unmounts and deletes the writable root of `key`; fine when it is already gone. */
  remove(key: string): Promise<void>;
}
