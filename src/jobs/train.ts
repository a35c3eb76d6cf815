// Temporary: moved to src/training/train.ts (removed once src/cli/train.ts imports it from there).
export { trainPredictors } from '../training/train.js';
