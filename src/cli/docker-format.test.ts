/**
 * Docker's table output, byte for byte: the layout of its tabwriter (minimum
 * cell width 10, padding 3, trailing text unpadded, display widths), go-units'
 * sizes and durations, `ps`'s COMMAND (cut to 20 columns with "…", then
 * quoted as Go quotes) and PORTS. The expected texts are what docker prints
 * for the same data, worked out from its formatter's rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerSize, ellipsis, goQuote, humanDuration } from './docker-units.js';
import { dockerPorts } from './docker-ports.js';
import { formatTable, tabwrite } from './tabwriter.js';

test('tabwriter: columns at least 10 wide, widest cell + 3, the last column unpadded', () => {
  assert.equal(formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], []), 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
  assert.equal(
    formatTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], []),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
  );
  assert.equal(formatTable(['DRIVER', 'VOLUME NAME'], [['local', 'v1']]), 'DRIVER    VOLUME NAME\nlocal     v1\n');
  assert.equal(
    formatTable(
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      [
        ['Images', '3', '1', '1.057GB', '1.046GB (98%)'],
        ['Containers', '12', '0', '0B', '0B'],
        ['Local Volumes', '0', '0', '0B', '0B'],
        ['Build Cache', '0', '0', '0B', '0B'],
      ],
    ),
    [
      'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE',
      'Images          3         1         1.057GB   1.046GB (98%)',
      'Containers      12        0         0B        0B',
      'Local Volumes   0         0         0B        0B',
      'Build Cache     0         0         0B        0B',
      '',
    ].join('\n'),
  );
});

test('tabwriter: empty cells are padded, an empty last cell leaves the padding before it', () => {
  assert.equal(formatTable(['A', 'PORTS', 'NAMES'], [['x', '', 'web']]), 'A         PORTS     NAMES\nx                   web\n');
  assert.equal(formatTable(['A', 'B'], [['x', '']]), 'A         B\nx         \n');
});

test('tabwriter: a long cell widens its column; "…" is one column and CJK characters two', () => {
  assert.equal(formatTable(['NAME', 'X'], [['a-rather-long-name', '1']]), 'NAME                 X\na-rather-long-name   1\n');
  assert.equal(formatTable(['COMMAND', 'X'], [['"sh -c echo \\"hello w…"', '1']]), 'COMMAND                   X\n"sh -c echo \\"hello w…"   1\n');
  assert.equal(formatTable(['NAME', 'X'], [['镜像镜像镜像', '1']]), 'NAME           X\n镜像镜像镜像   1\n');
});

test('tabwriter: Latin-1 letters are one column each, a combining accent none', () => {
  assert.equal(formatTable(['NAME', 'X'], [['café-crème-brûlée', '1']]), 'NAME                X\ncafé-crème-brûlée   1\n');
  assert.equal(formatTable(['NAME', 'X'], [['cafe\u0301-cre\u0300me-bru\u0302le\u0301e', '1']]), 'NAME                X\ncafe\u0301-cre\u0300me-bru\u0302le\u0301e   1\n');
});

test('docker top: the same layout with columns at least 20 wide', () => {
  assert.equal(
    formatTable(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], [['root', '4242', '4230', '0', '10:01', '?', '00:00:00', 'sleep 1000']], 20),
    'UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD\n' +
      'root                4242                4230                0                   10:01               ?                   00:00:00            sleep 1000\n',
  );
});

test('tabwriter: a column is the run of adjacent lines that have a cell in it', () => {
  // The middle line has no tab: it ends the first block, and the lines around it are aligned apart.
  assert.equal(tabwrite('aaaaaaaaaaaa\tb\nplain line\nc\td\n'), 'aaaaaaaaaaaa   b\nplain line\nc         d\n');
});

test('sizes: go-units HumanSizeWithPrecision (3 digits in images, 4 in df)', () => {
  const cases: [number, number, string][] = [
    [0, 3, '0B'],
    [999, 3, '999B'],
    [1000, 3, '1kB'],
    [1057024, 3, '1.06MB'],
    [1057024, 4, '1.057MB'],
    [4_260_000, 3, '4.26MB'],
    [123_456_789, 3, '123MB'],
    [999_999, 3, '1e+03kB'],
    [1_500_000_000, 4, '1.5GB'],
    [10 ** 27, 3, '1e+03YB'],
  ];
  for (const [bytes, p, want] of cases) assert.equal(dockerSize(bytes, p), want, `${bytes} at ${p}`);
});

test("durations: go-units HumanDuration (docker's CREATED, Up, Exited … ago)", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [450, 'Less than a second'],
    [1 * s, '1 second'],
    [47 * s, '47 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [3 * m, '3 minutes'],
    [35 * m + 40 * s, '35 minutes'],
    [59 * m, '59 minutes'],
    [1 * h, 'About an hour'],
    [1 * h + 29 * m, 'About an hour'],
    [1 * h + 31 * m, '2 hours'],
    [3 * h + 59 * m, '4 hours'],
    [24 * h, '24 hours'],
    [d + 12 * h, '36 hours'],
    [2 * d, '2 days'],
    [13 * d + 5 * h, '13 days'],
    [14 * d, '2 weeks'],
    [30 * d, '4 weeks'],
    [44 * d, '6 weeks'],
    [60 * d, '2 months'],
    [13 * 30 * d, '13 months'],
    [24 * 30 * d, '24 months'],
    [24 * 30 * d + 14 * d, '2 years'],
    [3 * 365 * d + 60 * d, '3 years'],
    [-5 * s, 'Less than a second'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('ps COMMAND: cut to 20 columns with "…", then Go-quoted; --no-trunc quotes it whole', () => {
  const cmd = 'sh -c echo "hello world" && sleep 1000';
  assert.equal(goQuote(ellipsis(cmd, 20)), '"sh -c echo \\"hello w…"');
  assert.equal(goQuote(cmd), '"sh -c echo \\"hello world\\" && sleep 1000"');
  assert.equal(goQuote(ellipsis('12345678901234567890', 20)), '"12345678901234567890"');
  assert.equal(goQuote(ellipsis('123456789012345678901', 20)), '"1234567890123456789…"');
  assert.equal(goQuote('a\tb\\c\x01\x7fé'), '"a\\tb\\\\c\\x01\\x7fé"');
  assert.equal(ellipsis('镜像镜像镜像镜像镜像镜像', 5), '镜像…');
});

test('ps PORTS: ranges of same-numbered bindings per address, the remapped ones after', () => {
  const p = (hostIp: string, hostPort: number, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp') => ({ hostIp, hostPort, containerPort, protocol });
  assert.equal(dockerPorts([]), '');
  assert.equal(dockerPorts([p('0.0.0.0', 8080, 80)]), '0.0.0.0:8080->80/tcp');
  assert.equal(
    dockerPorts([p('0.0.0.0', 9001, 9001), p('0.0.0.0', 8080, 80), p('127.0.0.1', 9000, 9000), p('0.0.0.0', 9000, 9000), p('0.0.0.0', 53, 53, 'udp')]),
    '0.0.0.0:53->53/udp, 0.0.0.0:9000-9001->9000-9001/tcp, 127.0.0.1:9000->9000/tcp, 0.0.0.0:8080->80/tcp',
  );
  assert.equal(dockerPorts([p('0.0.0.0', 80, 80), p('0.0.0.0', 82, 82)]), '0.0.0.0:80->80/tcp, 0.0.0.0:82->82/tcp');
  assert.equal(dockerPorts([p('::', 80, 80)]), '[::]:80->80/tcp');
});
