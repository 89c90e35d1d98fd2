/**
 * `--format` templates, the subset of Go's text/template that docker users
 * write: fields (`{{.Config.Env}}`, `{{.}}`), pipelines (`{{.Names | upper}}`),
 * the functions docker adds (json, join, split, lower, upper, title, truncate,
 * pad) and Go's own (index, len, printf, print, println, eq, ne, not, and,
 * or), `{{range}}`, `{{if}}`/`{{else}}`, `{{with}}`, `{{- trim -}}` markers
 * and comments. Values print as Go prints them: lists `[a b]`, maps
 * `map[k:v]`, a missing field `<no value>` (an error for rows with a fixed set of fields, as docker's structs).
 */
import { invalidArgument } from '../errors.js';

type Value = unknown;
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Token[] }
  | { kind: 'range' | 'if' | 'with'; pipe: Token[]; body: Node[]; otherwise: Node[] };
type Token =
  | { t: 'field'; root: boolean; path: string[] }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'ident'; v: string }
  | { t: 'pipe' }
  | { t: 'open' }
  | { t: 'close' };

const bad = (template: string, why: string) =>
  invalidArgument(`template ${JSON.stringify(template)}: ${why}`, { hint: 'use Go template syntax, fields as {{.Name}}, or --format json' });

function tokenize(src: string, template: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '|') (out.push({ t: 'pipe' }), i++);
    else if (c === '(') (out.push({ t: 'open' }), i++);
    else if (c === ')') (out.push({ t: 'close' }), i++);
    else if (c === '"' || c === '`') {
      const end = c === '"' ? /^"((?:[^"\\]|\\.)*)"/.exec(src.slice(i)) : /^`([^`]*)`/.exec(src.slice(i));
      if (!end) throw bad(template, 'unterminated string');
      out.push({ t: 'str', v: c === '"' ? (JSON.parse(end[0]) as string) : end[1]! });
      i += end[0].length;
    } else if (c === '.' || c === '$') {
      const m = /^(\$|\.)([A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)/.exec(src.slice(i))!;
      out.push({ t: 'field', root: m[1] === '$', path: m[2] ? m[2].split('.').filter(Boolean) : [] });
      i += m[0].length;
    } else {
      const m = /^(-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
      if (!m) throw bad(template, `unexpected "${c}"`);
      out.push(/^-?\d/.test(m[0]) ? { t: 'num', v: Number(m[0]) } : { t: 'ident', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/** Parses a template into nodes; errors name the template. */
export function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: { node: Extract<Node, { body: Node[] }>; inElse: boolean }[] = [];
  const target = (): Node[] => {
    const top = stack[stack.length - 1];
    return top ? (top.inElse ? top.node.otherwise : top.node.body) : root;
  };
  let rest = template;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      if (text) target().push({ kind: 'text', text });
      break;
    }
    const close = rest.indexOf('}}', open);
    if (close < 0) throw bad(template, 'unclosed action');
    let inner = rest.slice(open + 2, close);
    if (/^-\s/.test(inner)) text = text.replace(/\s+$/, '');
    trimNext = inner.endsWith('-') && /\s-$/.test(inner);
    inner = inner.replace(/^-\s/, '').replace(/\s-$/, '').trim();
    if (text) target().push({ kind: 'text', text });
    rest = rest.slice(close + 2);
    if (inner.startsWith('/*')) continue;
    const kw = /^(range|if|with|else|end)\b/.exec(inner)?.[1];
    if (kw === 'range' || kw === 'if' || kw === 'with') {
      const node = { kind: kw, pipe: tokenize(inner.slice(kw.length), template), body: [], otherwise: [] } as Extract<Node, { body: Node[] }>;
      target().push(node);
      stack.push({ node, inElse: false });
    } else if (kw === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) throw bad(template, 'unexpected {{else}}');
      top.inElse = true;
    } else if (kw === 'end') {
      if (!stack.pop()) throw bad(template, 'unexpected {{end}}');
    } else {
      const pipe = tokenize(inner, template);
      if (pipe.length === 0) throw bad(template, 'empty action');
      target().push({ kind: 'action', pipe });
    }
  }
  if (stack.length > 0) throw bad(template, `missing {{end}} for {{${stack[stack.length - 1]!.node.kind}}}`);
  return root;
}

/** Go's %v: lists `[a b]`, maps `map[k:v]` with sorted keys, absent `<no value>`. */
export function goString(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, Value>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

const truthy = (v: Value): boolean =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0));

function printf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([-0-9.]*)([svdqt%])/g, (_m, width: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    const s = verb === 'q' ? JSON.stringify(goString(a)) : verb === 'd' ? String(Math.trunc(Number(a))) : goString(a);
    const w = Number.parseInt(width, 10);
    if (!Number.isFinite(w)) return s;
    return w < 0 ? s.padEnd(-w) : s.padStart(w);
  });
}

const FUNCS: Record<string, (...a: Value[]) => Value> = {
  json: (v) => JSON.stringify(v ?? null),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  title: (s) => goString(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n) => goString(s).slice(0, Number(n)),
  pad: (s, l, r) => ' '.repeat(Number(l)) + goString(s) + ' '.repeat(Number(r)),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : typeof v === 'object' && v ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce<Value>((acc, k) => (acc === null || acc === undefined ? undefined : (acc as Record<string, Value>)[String(k)]), v),
  printf: (f, ...a) => printf(String(f), a),
  print: (...a) => a.map(goString).join(''),
  println: (...a) => a.map(goString).join(' ') + '\n',
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find(truthy) ?? a[a.length - 1],
};

/** `.A.B` from dot, `$.A.B` from the top-level value. */
function field(dot: Value, root: Value, t: Extract<Token, { t: 'field' }>, template: string): Value {
  let v = t.root ? root : dot;
  for (const part of t.path) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    const known = rowFields.get(v);
    if (known && !known.has(part)) throw bad(template, `can't evaluate field ${part}; the fields are ${[...known].join(', ')}`);
    v = (v as Record<string, Value>)[part];
  }
  return v;
}

function evalPipe(tokens: Token[], dot: Value, root: Value, template: string): Value {
  const commands: Token[][] = [[]];
  let depth = 0;
  for (const tok of tokens) {
    if (tok.t === 'open') depth++;
    if (tok.t === 'close') depth--;
    if (tok.t === 'pipe' && depth === 0) commands.push([]);
    else commands[commands.length - 1]!.push(tok);
  }
  let prev: Value = undefined;
  commands.forEach((cmd, i) => {
    const args = operands(cmd, dot, root, template);
    const head = cmd[0];
    if (head?.t === 'ident') {
      const fn = FUNCS[head.v];
      if (!fn) throw bad(template, `function "${head.v}" not defined`);
      prev = fn(...args.slice(1), ...(i > 0 ? [prev] : []));
    } else {
      if (args.length !== 1 || i > 0) throw bad(template, 'can only pipe into a function');
      prev = args[0];
    }
  });
  return prev;
}

function operands(cmd: Token[], dot: Value, root: Value, template: string): Value[] {
  const out: Value[] = [];
  for (let i = 0; i < cmd.length; i++) {
    const tok = cmd[i]!;
    if (tok.t === 'open') {
      let depth = 1;
      let j = i + 1;
      for (; j < cmd.length && depth > 0; j++) depth += cmd[j]!.t === 'open' ? 1 : cmd[j]!.t === 'close' ? -1 : 0;
      if (depth !== 0) throw bad(template, 'unbalanced parentheses');
      out.push(evalPipe(cmd.slice(i + 1, j - 1), dot, root, template));
      i = j - 1;
    } else if (tok.t === 'field') out.push(field(dot, root, tok, template));
    else if (tok.t === 'str' || tok.t === 'num') out.push(tok.v);
    else if (tok.t === 'ident') out.push(i === 0 ? tok.v : FUNCS[tok.v] ? FUNCS[tok.v]!() : tok.v === 'true' ? true : tok.v === 'false' ? false : tok.v === 'nil' ? null : tok.v);
    else throw bad(template, 'unexpected ")"');
  }
  return out;
}

function render(nodes: Node[], dot: Value, root: Value, template: string): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'action') out += goString(evalPipe(n.pipe, dot, root, template));
    else {
      const v = evalPipe(n.pipe, dot, root, template);
      if (n.kind === 'if') out += render(truthy(v) ? n.body : n.otherwise, dot, root, template);
      else if (n.kind === 'with') out += truthy(v) ? render(n.body, v, root, template) : render(n.otherwise, dot, root, template);
      else {
        const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, Value>)[k]) : [];
        out += items.length === 0 ? render(n.otherwise, dot, root, template) : items.map((item) => render(n.body, item, root, template)).join('');
      }
    }
  }
  return out;
}

/** Rows that are Go structs in docker (images, ps): a field they do not have is an error, not `<no value>`. */
const rowFields = new WeakMap<object, ReadonlySet<string>>();

/**
 * A compiled `--format` template: `render(value)` is the text for one object.
 * With `fields`, the value is a row of those fields only (docker's structs):
 * naming another is an error; otherwise (inspect's maps) it prints `<no value>`.
 */
export function compileTemplate(template: string, opts: { fields?: Iterable<string> } = {}): (value: Value) => string {
  const nodes = parseTemplate(template.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  const fields = opts.fields ? new Set(opts.fields) : undefined;
  return (value) => {
    if (fields && value !== null && typeof value === 'object') rowFields.set(value, fields);
    return render(nodes, value, value, template);
  };
}
