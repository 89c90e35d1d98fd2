/**
 * Runs a plan's stages, each as soon as the stages it depends on are built,
 * so independent stages build in parallel. The first failure cancels the
 * stages still running (their containers are stopped, their mounts removed)
 * and is the error the build reports.
 */
import type { BuildPlan, Stage } from '../dockerfile/index.js';
import type { BuildSession } from './session.js';
import { runStage } from './stage.js';
import type { ImageState } from './state.js';
import { sharedController } from '../util/shared-signal.js';

export async function runStages(s: BuildSession, plan: BuildPlan): Promise<void> {
  const byIndex = new Map(plan.stages.map((st) => [st.index, st]));
  const running = new Map<number, Promise<ImageState>>();
  const failure = sharedController();
  const outer = s.signal;
  const onOuter = () => failure.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  s.signal = failure.signal;
  let first: unknown;

  const start = (stage: Stage): Promise<ImageState> => {
    let p = running.get(stage.index);
    if (!p) {
      p = (async () => {
        await Promise.all(stage.dependsOn.filter((d) => byIndex.has(d)).map((d) => start(byIndex.get(d)!)));
        const state = await runStage(s, plan, stage);
        s.stageResults.set(stage.index, state);
        return state;
      })();
      p.catch((e: unknown) => {
        if (first === undefined) {
          first = e;
          failure.abort(e);
        }
      });
      running.set(stage.index, p);
    }
    return p;
  };
  try {
    // One after the other when the snapshotter has one root (plan order has dependencies first).
    const results = s.deps.sequentialStages
      ? await (async () => {
          const out: PromiseSettledResult<ImageState>[] = [];
          for (const st of plan.stages) out.push(await start(st).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
          return out;
        })()
      : await Promise.allSettled(plan.stages.map(start));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw first ?? (failed as PromiseRejectedResult).reason;
  } finally {
    outer?.removeEventListener('abort', onOuter);
    s.signal = outer;
  }
}
