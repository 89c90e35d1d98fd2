/**
 * Progress events from long operations (pull, push, build). Engines emit them;
 * the CLI renders them as bars on a terminal or plain lines otherwise.
 */
export type ProgressStatus =
  | 'Waiting'
  | 'Downloading'
  | 'Verifying'
  | 'Download complete'
  | 'Pull complete'
  | 'Already exists'
  | 'Preparing'
  | 'Pushing'
  | 'Pushed'
  | 'Layer already exists'
  | 'Mounted'
  | 'Retrying';

export interface ProgressEvent {
  /** Short id of the blob (12 hex chars), or '' for whole-operation messages. */
  id: string;
  status: ProgressStatus | string;
  current?: number;
  total?: number;
  detail?: string;
}

export interface ProgressSink {
  emit(event: ProgressEvent): void;
}

export const noProgress: ProgressSink = { emit: () => undefined };
