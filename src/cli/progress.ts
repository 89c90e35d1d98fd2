/**
 * Renders progress events: one live bar per layer on a terminal (redrawn in
 * place), plain lines on status changes otherwise, nothing with -q.
 */
import type { ProgressEvent, ProgressSink } from '../image/progress.js';
import { humanSize } from './output.js';

interface Row {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

function bar(current: number, total: number, width = 40): string {
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}

function render(r: Row): string {
  const prefix = r.id ? `${r.id}: ` : '';
  if ((r.status === 'Downloading' || r.status === 'Pushing') && r.total) {
    return `${prefix}${r.status} ${bar(r.current ?? 0, r.total)} ${humanSize(r.current ?? 0)}/${humanSize(r.total)}`;
  }
  return `${prefix}${r.status}${r.status === 'Mounted' ? '' : ''}`;
}

export function createProgress(stream: NodeJS.WriteStream, opts: { quiet?: boolean } = {}): ProgressSink & { done(): void } {
  if (opts.quiet) return { emit: () => undefined, done: () => undefined };
  const rows: Row[] = [];
  const byId = new Map<string, Row>();
  if (!stream.isTTY) {
    return {
      emit(e: ProgressEvent) {
        const key = e.id || e.status;
        const prev = byId.get(key);
        if (prev && prev.status === e.status) return; // only status changes in plain mode
        const row = { id: e.id, status: e.detail ? `${e.status} ${e.detail}` : e.status };
        byId.set(key, row);
        if (e.status === 'Waiting') return;
        stream.write(render(row) + '\n');
      },
      done: () => undefined,
    };
  }
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    timer = undefined;
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const r of rows) out += `\x1b[2K${render(r)}\n`;
    drawn = rows.length;
    stream.write(out);
  };
  return {
    emit(e: ProgressEvent) {
      let row = byId.get(e.id);
      if (!row) {
        row = { id: e.id, status: e.status };
        byId.set(e.id, row);
        rows.push(row);
      }
      row.status = e.detail ? `${e.status} ${e.detail}` : e.status;
      row.current = e.current;
      row.total = e.total ?? row.total;
      timer ??= setTimeout(draw, 100);
    },
    done() {
      if (timer) clearTimeout(timer);
      if (rows.length) draw();
    },
  };
}
