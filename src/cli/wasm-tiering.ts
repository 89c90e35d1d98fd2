/**
 * How soon V8 optimizes WebAssembly, set before anything compiles any: the
 * registry client's HTTP parser (undici's llhttp) is WebAssembly. V8 runs it
 * first as Liftoff code and optimizes each function that gets hot with
 * TurboFan in the background; llhttp's state machine is one very large
 * function that gets hot within the first responses, and optimizing it cost
 * about 70 ms of CPU in every `pull` and `push`, 25–30% of a pull with
 * nothing to download (perf, bench/pull-push.sh). kiln's commands are short
 * and parse little HTTP (bodies go through in large spans), so the budget a
 * function spends before it is optimized is 100× V8's default: a long
 * transfer or the agent still gets the optimized parser, a command does not
 * pay for it. Imported first by the CLI entry (main.ts); the packaged
 * executable's loader sets the same flag before it compiles the bundle.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default is 1,800,000 (roughly bytes of code run). */
export const WASM_TIERING_FLAG = '--wasm-tiering-budget=180000000';

setFlagsFromString(WASM_TIERING_FLAG);
