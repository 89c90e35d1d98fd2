#!/usr/bin/env node
/**
 * kiln's entry point: runs the program (program.ts) on this process's command
 * line, sets the exit code, and ends a finished push, pull or remote build at once.
 */
// Before anything calls fetch (its HTTP parser is WebAssembly): the packaged executable's startup snapshot has no
// WebAssembly while it is built, so this runs at start, not in program.ts.
import './wasm-tiering.js';
import { OVER_ON_RETURN, commandName, main } from './program.js';

// A reader that stops early (`kiln export c | tar -t | head`) closes the pipe: end quietly, as a
// process killed by SIGPIPE would (128+13), without a stack trace from the streams still writing.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});

/** Ends the process once stdout and stderr have taken everything written to them. */
function exitFlushed(code: number): void {
  let left = 2;
  const flushed = () => {
    if (--left === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
    const name = commandName(argv);
    const over = name !== undefined && Object.hasOwn(OVER_ON_RETURN, name) && OVER_ON_RETURN[name]!();
    if (code === 0 && over && !argv.includes('--help') && !argv.includes('-h')) exitFlushed(code);
  },
  (e) => {
    process.stderr.write(`kiln: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
