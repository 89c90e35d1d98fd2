/** The events contract: what `kiln events` streams (Docker's type/action/actor shape). */
export interface KilnEvent {
  /** RFC 3339 with milliseconds. */
  time: string;
  type: 'container' | 'image' | 'volume' | 'network';
  /**
   * container: create, start, die, stop, kill, destroy; image: pull, push,
   * tag, untag, delete, import, load, save, build; volume: create, destroy.
   */
  action: string;
  /**
   * The container id; for image events the full image name (pull, push, tag,
   * untag) or the image ID (delete, import, load, save, build).
   */
  id: string;
  /**
   * Docker's Actor.Attributes, as strings: `name` (the container's name, the
   * image's full name, or for
   * delete, import, load, save and build its names comma-separated, else its ID), image, exitCode, signal…
   */
  attributes: Record<string, string>;
}

export interface EventQuery {
  /** A backend without history (containerd) refuses a time in the past. */
  since?: Date;
  until?: Date;
  /** `type=`, `event=`, `container=`, `image=`; values of one key are alternatives, keys must all match. */
  filters?: string[];
  /** Keep streaming new events (until `until` or the signal). */
  follow?: boolean;
  signal?: AbortSignal;
}
