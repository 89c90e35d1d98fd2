import type { Command } from 'commander';
import { familiarString, parseReference } from '../../name/reference.js';
import type { ContainerSummary, PortBinding } from '../../engine/containers.js';
import { withContainers } from '../engine.js';
import { humanAge, printFormatted, printJSON, printTable } from '../output.js';
import { ellipsis, goQuote } from '../docker-units.js';
import { dockerPorts } from '../docker-ports.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** "Up 5 seconds", "Exited (3) 2 minutes ago", as Docker words it. */
export function statusText(c: ContainerSummary, now = Date.now()): string {
  return c.note ? `${dockerStatus(c, now)} (${c.note})` : dockerStatus(c, now);
}

function dockerStatus(c: ContainerSummary, now: number): string {
  const ago = (t?: string) => humanAge(t, now);
  if (c.state === 'created') return 'Created';
  if (c.state === 'running') return `Up ${ago(c.startedAt).replace(/ ago$/, '').replace('Less than a second', 'Less than a second')}`;
  if (c.state === 'unknown') return 'Unknown';
  if (c.state === 'dead') return 'Dead';
  const code = c.exitCode === undefined ? 'unknown' : String(c.exitCode);
  return c.finishedAt ? `Exited (${code}) ${ago(c.finishedAt)}` : `Exited (${code})`;
}

export const portsText = (ports: PortBinding[]): string => dockerPorts(ports);

/** The image as docker shows it; containers mostly share a few images, each parsed once. */
const imageTexts = new Map<string, string>();
function imageText(image: string): string {
  let text = imageTexts.get(image);
  if (text === undefined) {
    try {
      text = familiarString(parseReference(image));
    } catch {
      text = image;
    }
    imageTexts.set(image, text);
  }
  return text;
}

/** The fields `--format` templates see, with docker's column titles. */
const HEADERS = { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', State: 'STATE', Labels: 'LABELS' };

export function register(program: Command): void {
  program
    .command('ps')
    .description('List containers (running ones unless -a)')
    .option('-a, --all', 'show all containers')
    .option('-q, --quiet', 'only IDs')
    .option('--no-trunc', 'do not truncate IDs and commands')
    .option('-f, --filter <key=value>', 'name=, status=, id=, label=, ancestor=, exited=', collect, [])
    .option('--format <format>', 'json, or a Go template: "{{.Names}} {{.Status}}", "table {{.ID}}\\t{{.Image}}"')
    .action(async (opts: { all?: boolean; quiet?: boolean; trunc: boolean; filter: string[]; format?: string }, cmd: Command) => {
      const list = await withContainers(cmd, (c) => c.listContainers({ all: !!opts.all, filters: opts.filter }));
      if (opts.format === 'json') return printJSON(list);
      const id = (s: string) => (opts.trunc ? s.slice(0, 12) : s);
      if (opts.quiet) {
        process.stdout.write(list.map((c) => id(c.id) + '\n').join(''));
        return;
      }
      const now = Date.now();
      // As docker: cut to 20 columns (the last one "…"), then quoted as Go quotes.
      const cmdText = (s: string) => goQuote(opts.trunc ? ellipsis(s, 20) : s);
      const rows = list.map((c) => ({
        ID: id(c.id),
        Image: imageText(c.image),
        Command: cmdText(c.command),
        CreatedAt: c.created,
        RunningFor: humanAge(c.created, now),
        Status: statusText(c, now),
        Ports: portsText(c.ports),
        Names: c.name,
        State: c.state,
        Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
      }));
      if (opts.format !== undefined) return printFormatted(opts.format, rows, HEADERS);
      printTable(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names]),
      );
    });
}
