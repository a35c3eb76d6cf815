import type { ForwardModel } from '../profiles/index.js';

/** The step-model constants calibration may refit (src/twin/step-time.ts). */
export type StepTerm =
  | 'constantMs'
  | 'perDecodeMs'
  | 'perContextKiloTokenMs'
  | 'perPrefillTokenMs'
  | 'perAdapterMs'
  | 'enabledMs'
  | 'perSlotMs'
  | 'perSlotDecodeMs'
  | 'perSlotPrefillTokenMs';

export function termValue(model: ForwardModel, key: StepTerm): number {
  return key in model.base
    ? (model.base[key as keyof ForwardModel['base']] as number)
    : (model.lora[key as keyof ForwardModel['lora']] as number);
}

export function setTerm(model: ForwardModel, key: StepTerm, value: number): void {
  if (key in model.base) (model.base as Record<string, unknown>)[key] = value;
  else (model.lora as Record<string, unknown>)[key] = value;
}
