/**
 * Parser nodes → typed instructions, with Docker's argument and flag checks.
 * Unknown instructions are rejected here (the parser accepts any word).
 */
import type { Node } from '../parser/node.js';
import { INSTRUCTIONS } from '../parser/arguments.js';
import { BuildContext } from './context.js';
import { parseDuration } from './duration.js';
import { buildCopy, buildRun } from './run-copy.js';
import { closest } from './suggest.js';
import type { ExposeInstruction, FromInstruction, HealthcheckInstruction, Instruction } from './types.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
const PORT = /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i;
const dynamic = (v: string) => v.includes('$');

/** One node → one typed instruction; throws DockerfileError naming FILE:LINE. */
export function buildInstruction(node: Node, file = 'Dockerfile'): Instruction {
  const c: BuildContext = new BuildContext(node, file);
  const loc = c.loc;
  switch (node.name) {
    case 'from':
      return buildFrom(c);
    case 'run':
      return buildRun(c);
    case 'copy':
    case 'add':
      return buildCopy(c);
    case 'env':
    case 'label': {
      c.flags({});
      c.requireArgs(1);
      return { kind: node.name, loc, pairs: c.pairs() };
    }
    case 'arg': {
      c.flags({});
      c.requireArgs(1);
      return {
        kind: 'arg',
        loc,
        args: node.args.map((w) => {
          const eq = w.indexOf('=');
          const key = eq < 0 ? w : w.slice(0, eq);
          if (key === '') c.fail('ARG names can not be blank');
          return eq < 0 ? { key } : { key, value: w.slice(eq + 1) };
        }),
      };
    }
    case 'workdir':
      c.flags({});
      return { kind: 'workdir', loc, path: c.exactlyOne() };
    case 'user':
      c.flags({});
      return { kind: 'user', loc, user: c.exactlyOne() };
    case 'stopsignal':
      c.flags({});
      return { kind: 'stopsignal', loc, signal: c.exactlyOne() };
    case 'maintainer':
      c.flags({});
      return { kind: 'maintainer', loc, name: c.exactlyOne() };
    case 'expose':
      return buildExpose(c);
    case 'cmd':
    case 'entrypoint':
      // Like BuildKit, a bare CMD/ENTRYPOINT is the empty shell command.
      c.flags({});
      return { kind: node.name, loc, command: c.command() };
    case 'shell':
      c.flags({});
      if (!node.json) c.fail('SHELL requires the arguments to be in JSON form', 'write it like SHELL ["/bin/bash", "-c"]');
      if (node.args.length === 0) c.fail('SHELL requires at least one argument');
      return { kind: 'shell', loc, shell: [...node.args] };
    case 'volume':
      c.flags({});
      c.requireArgs(1);
      for (const p of node.args) if (p.trim() === '') c.fail('VOLUME specified can not be an empty string');
      return { kind: 'volume', loc, paths: node.args.map((p) => p.trim()) };
    case 'healthcheck':
      return buildHealthcheck(c);
    case 'onbuild': {
      c.flags({});
      if (!node.sub) c.fail('ONBUILD requires at least one argument');
      const inner = node.sub.name;
      if (inner === 'onbuild') c.fail("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (inner === 'from' || inner === 'maintainer') c.fail(`${inner.toUpperCase()} isn't allowed as an ONBUILD trigger`);
      // What the image config keeps: the text after ONBUILD, heredocs re-attached.
      let trigger = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.sub.heredocs) trigger += '\n' + h.content + h.name;
      return { kind: 'onbuild', loc, trigger, instruction: buildInstruction(node.sub, file) };
    }
    default: {
      const guess = closest(node.name, INSTRUCTIONS);
      const word = node.original.trim().split(/\s+/)[0];
      c.fail(`unknown instruction ${JSON.stringify(word)}${guess ? ` (did you mean ${guess.toUpperCase()}?)` : ''}`, undefined, undefined, word);
    }
  }
}

function buildFrom(c: BuildContext): FromInstruction {
  const f = c.flags({ platform: 'string' });
  const a = c.node.args;
  if (a.length !== 1 && !(a.length === 3 && a[1].toLowerCase() === 'as')) {
    c.fail('FROM requires either one or three arguments: FROM image [AS name]');
  }
  const from: FromInstruction = { kind: 'from', loc: c.loc, image: a[0] };
  if (a.length === 3) {
    const name = a[2].toLowerCase();
    if (!STAGE_NAME.test(name)) c.fail(`invalid name for build stage: ${JSON.stringify(a[2])}, name can't start with a number or contain symbols`, undefined, undefined, a[2]);
    from.stageName = name;
  }
  const platform = f.string('platform');
  if (platform !== undefined) from.platform = platform;
  return from;
}

function buildExpose(c: BuildContext): ExposeInstruction {
  c.flags({});
  c.requireArgs(1);
  for (const p of c.node.args) {
    if (!dynamic(p) && !PORT.test(p)) c.fail(`invalid EXPOSE port ${JSON.stringify(p)}: expected PORT[/PROTO] or START-END[/PROTO], PROTO one of tcp, udp, sctp`);
  }
  return { kind: 'expose', loc: c.loc, ports: [...c.node.args] };
}

function buildHealthcheck(c: BuildContext): HealthcheckInstruction {
  const a = c.node.args;
  if (a.length === 0) c.fail('HEALTHCHECK requires an argument: CMD … or NONE');
  const type = a[0].toUpperCase();
  if (type === 'NONE') {
    if (a.length > 1) c.fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', loc: c.loc, test: ['NONE'] };
  }
  if (type !== 'CMD') c.fail(`unknown type ${JSON.stringify(a[0])} in HEALTHCHECK (try CMD)`);
  const f = c.flags({ interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  const rest = a.slice(1);
  if (rest.length === 0 || (!c.node.json && rest[0].trim() === '')) c.fail('missing command after HEALTHCHECK CMD');
  const hc: HealthcheckInstruction = {
    kind: 'healthcheck',
    loc: c.loc,
    test: c.node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')],
  };
  const durations = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ] as const;
  for (const [flag, field] of durations) {
    const v = f.string(flag);
    if (v === undefined) continue;
    const ns = parseDuration(v);
    if (ns === undefined) c.fail(`invalid --${flag}=${v}: expected a duration like 30s or 1m30s`);
    if (ns !== 0 && ns < 1e6) c.fail(`--${flag} cannot be less than 1ms`);
    hc[field] = ns;
  }
  const retries = f.string('retries');
  if (retries !== undefined) {
    if (!/^-?\d+$/.test(retries)) c.fail(`invalid --retries=${retries}: expected a whole number`);
    if (Number(retries) < 0) c.fail('--retries cannot be negative');
    hc.retries = Number(retries);
  }
  return hc;
}
