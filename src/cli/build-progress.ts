/**
 * Renders build events: `--progress=plain` prints BuildKit-style lines
 * (`#N [stage k/n] INSTR`, `#N 0.123 output`, `#N CACHED`, `#N DONE 0.3s`);
 * on a terminal the steps are redrawn in place with their timings and the
 * last lines of output of the steps still running.
 */
import type { BuildEvent, BuildProgress, StepInfo } from '../builder/types.js';

export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet';

export function createBuildProgress(stream: NodeJS.WriteStream, mode: ProgressMode): BuildProgress & { done(): void } {
  if (mode === 'quiet') return { emit: () => undefined, done: () => undefined };
  if (mode === 'plain' || (mode === 'auto' && !stream.isTTY)) return plain(stream);
  return tty(stream);
}

function plain(out: NodeJS.WriteStream): BuildProgress & { done(): void } {
  const partial = new Map<number, string>();
  const flush = (step: StepInfo, seconds: number) => {
    const rest = partial.get(step.n);
    if (rest) out.write(`#${step.n} ${seconds.toFixed(3)} ${rest}\n`);
    partial.delete(step.n);
  };
  return {
    emit(e: BuildEvent) {
      switch (e.kind) {
        case 'start':
          out.write(`#${e.step.n} ${e.step.name}\n`);
          break;
        case 'cached':
          out.write(`#${e.step.n} CACHED\n\n`);
          break;
        case 'log': {
          const lines = ((partial.get(e.step.n) ?? '') + e.text).split('\n');
          partial.set(e.step.n, lines.pop() ?? '');
          for (const l of lines) out.write(`#${e.step.n} ${e.seconds.toFixed(3)} ${l}\n`);
          break;
        }
        case 'done':
          flush(e.step, e.seconds);
          out.write(`#${e.step.n} DONE ${e.seconds.toFixed(1)}s\n\n`);
          break;
        case 'error':
          flush(e.step, e.seconds);
          out.write(`#${e.step.n} ERROR ${e.message.split('\n')[0]}\n\n`);
          break;
        case 'warning':
          out.write(`WARNING: ${e.message}\n`);
          break;
      }
    },
    done: () => undefined,
  };
}

interface Row {
  step: StepInfo;
  state: 'running' | 'cached' | 'done' | 'error';
  started: number;
  seconds?: number;
  lines: string[];
  partial: string;
}

function tty(out: NodeJS.WriteStream): BuildProgress & { done(): void } {
  const rows: Row[] = [];
  const warnings: string[] = [];
  const t0 = performance.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const width = () => Math.max(40, (out.columns || 100) - 1);
  const clip = (s: string) => (s.length > width() ? s.slice(0, width() - 1) + '…' : s);
  const draw = () => {
    const total = (performance.now() - t0) / 1000;
    const finished = rows.filter((r) => r.state !== 'running').length;
    const lines = [`[+] Building ${total.toFixed(1)}s (${finished}/${rows.length})`];
    for (const r of rows) {
      const secs = r.state === 'running' ? (performance.now() - r.started) / 1000 : (r.seconds ?? 0);
      const tag = r.state === 'cached' ? 'CACHED' : r.state === 'error' ? 'ERROR' : `${secs.toFixed(1)}s`;
      const head = ` => ${r.state === 'cached' ? 'CACHED ' : ''}${r.step.name}`;
      lines.push(clip(`${head.padEnd(Math.max(0, width() - 8))} ${tag}`));
      if (r.state === 'running' || r.state === 'error') for (const l of r.lines.slice(-6)) lines.push(clip(` => => # ${l}`));
    }
    for (const w of warnings) lines.push(clip(`WARNING: ${w}`));
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    // Lines left from a taller earlier frame.
    for (let i = lines.length; i < drawn; i++) s += '\x1b[2K\n';
    if (drawn > lines.length) s += `\x1b[${drawn - lines.length}A`;
    drawn = lines.length;
    out.write(s);
  };
  const schedule = () => (timer ??= setTimeout(() => ((timer = undefined), draw()), 100));
  const interval = setInterval(schedule, 200);
  interval.unref();
  const row = (step: StepInfo) => rows.find((r) => r.step.n === step.n);
  return {
    emit(e: BuildEvent) {
      if (e.kind === 'warning') warnings.push(e.message);
      else if (e.kind === 'start') rows.push({ step: e.step, state: 'running', started: performance.now(), lines: [], partial: '' });
      else {
        const r = row(e.step);
        if (!r) return;
        if (e.kind === 'cached') r.state = 'cached';
        else if (e.kind === 'done') Object.assign(r, { state: 'done', seconds: e.seconds });
        else if (e.kind === 'error') Object.assign(r, { state: 'error', seconds: e.seconds });
        else if (e.kind === 'log') {
          const parts = (r.partial + e.text).split('\n');
          r.partial = parts.pop() ?? '';
          r.lines.push(...parts);
          if (r.lines.length > 50) r.lines.splice(0, r.lines.length - 50);
        }
      }
      schedule();
    },
    done() {
      clearInterval(interval);
      if (timer) clearTimeout(timer);
      timer = undefined;
      draw();
    },
  };
}
