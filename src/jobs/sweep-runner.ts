// Temporary: moved to src/training/local-sweep-runner.ts (removed once src/cli/train.ts imports it from there).
export { localSweepRunner } from '../training/local-sweep-runner.js';
