/** The events contract: what `kiln events` streams (Docker's type/action/actor shape). */
export interface KilnEvent {
  /** RFC 3339 with milliseconds. */
  time: string;
  type: 'container' | 'image' | 'volume' | 'network';
  /** create, start, die, stop, kill, destroy, pull, push, tag, untag, delete, build… */
  action: string;
  /** The container id, or the image reference or id. */
  id: string;
  /** name, image, exitCode, signal… as strings, like Docker's Actor.Attributes. */
  attributes: Record<string, string>;
}

export interface EventQuery {
  since?: Date;
  until?: Date;
  /** `type=`, `event=`, `container=`, `image=`; values of one key are alternatives, keys must all match. */
  filters?: string[];
  /** Keep streaming new events (until `until` or the signal). */
  follow?: boolean;
  signal?: AbortSignal;
}
