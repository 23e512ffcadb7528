export { runLoop } from "./loop.js";
export type { IterationMetrics } from "./iterationMetrics.js";
export type { LoopParts, TrainResult, AugmentResult } from "./loopParts.js";
export { RunDirectory } from "./runDirectory.js";
export { parseRunConfig, readRunConfigFile, changedKeys, runConfigSchema, type RunConfig } from "./runConfig.js";
export { silentObserver, TerminalObserver, type LoopObserver } from "./observer.js";
