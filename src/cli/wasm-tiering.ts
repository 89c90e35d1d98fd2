/**
 * How soon V8 optimizes fetch's HTTP parser (`ADD <url>`, a build context
 * from a URL). Node's fetch is undici, which parses HTTP with llhttp compiled
 * to WebAssembly; V8 runs it as Liftoff code and optimizes each function that
 * gets hot with TurboFan in the background. llhttp's state machine is one very
 * large function that gets hot within the first responses, and optimizing it
 * cost about 70 ms of CPU in every `pull` and `push` when the registry client
 * used undici (25–30% of a pull with nothing to download; perf,
 * bench/pull-push.sh). kiln's commands are short and parse little HTTP
 * (bodies go through in large spans), so modules kiln compiles get 100× V8's
 * tiering budget: a long transfer or the agent still gets the optimized
 * parser, a command does not pay for it.
 *
 * V8 reads the budget when it makes the module, so the flag is raised only
 * for that: WebAssembly.compile makes the module synchronously (functions are
 * compiled lazily, on first call, either way) between raising the flag and
 * setting it back, so nothing else compiles meanwhile. V8 takes a code cache
 * (Node's own for its built-in modules, the packaged executable's for its
 * bundles) only under the flags it was made with. Imported first by the CLI
 * entry (main.ts), before anything calls fetch.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default budget (roughly bytes of code run before a function is optimized), and kiln's. */
export const DEFAULT_BUDGET = 1_800_000;
export const KILN_BUDGET = 100 * DEFAULT_BUDGET;

const setBudget = (n: number): void => setFlagsFromString(`--wasm-tiering-budget=${n}`);

WebAssembly.compile = async (bytes) => {
  setBudget(KILN_BUDGET);
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setBudget(DEFAULT_BUDGET);
  }
};
