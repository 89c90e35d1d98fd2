/** Finding `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF` words in RUN, COPY and ADD lines. */
import { expandWord, expandWords } from '../shell/lex.js';
import { isKilnError } from '../../errors.js';
import type { Heredoc } from './node.js';

const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;
const noEnv = () => undefined;

export type HeredocStart = Omit<Heredoc, 'content'>;

/** The heredocs a line opens, in order. Throws the shell's error for a bad name. */
export function heredocsFromLine(line: string): HeredocStart[] {
  let words: string[];
  try {
    words = expandWords(line, noEnv, { rawQuotes: true, rawEscapes: true, keepWord: (w) => w.includes('<<') });
  } catch (e) {
    // BuildKit ignores a line the shell cannot split: it opens no heredoc.
    if (isKilnError(e, 'INVALID_ARGUMENT')) return [];
    throw e;
  }
  const out: HeredocStart[] = [];
  for (const w of words) {
    const m = HEREDOC.exec(w);
    if (!m || m[3] === '') continue;
    const name = expandWord(m[3], noEnv);
    if (name === '') continue;
    out.push({ name, expand: !/["']/.test(m[3]), chomp: m[2] === '-', fd: m[1] === '' ? 0 : Number(m[1]) });
  }
  return out;
}

/** Can this instruction carry heredocs? (RUN, COPY, ADD, also under ONBUILD; not JSON form.) */
export function canContainHeredoc(name: string, json: boolean): boolean {
  return (name === 'run' || name === 'copy' || name === 'add') && !json;
}
