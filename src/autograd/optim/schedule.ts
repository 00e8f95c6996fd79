/**
 * Learning-rate schedules: linear warm-up then cosine decay (Hugging Face's
 * get_cosine_schedule_with_warmup with half a cycle, plus an optional floor):
 *   step < W:  lr = base · step / W
 *   else:      lr = min + (base − min) · ½(1 + cos(π · min(1, (step − W) / (S − W))))
 */
export interface CosineScheduleOptions {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor reached at the end of the decay (default 0). */
  minLr?: number;
}

/** Returns lr(step) for steps 0, 1, 2, …; call before each optimiser step: `opt.lr = lr(step)`. */
export function cosineWithWarmup(o: CosineScheduleOptions): (step: number) => number {
  const minLr = o.minLr ?? 0;
  if (o.warmupSteps < 0 || o.totalSteps < o.warmupSteps) {
    throw new Error(`cosineWithWarmup: need 0 ≤ warmupSteps (${o.warmupSteps}) ≤ totalSteps (${o.totalSteps})`);
  }
  return (step: number) => {
    if (step < o.warmupSteps) return (o.baseLr * step) / Math.max(1, o.warmupSteps);
    const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
    return minLr + (o.baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
