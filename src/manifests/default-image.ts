import { versionParts } from '../profiles/build/vllm-version.js';

/**
 * The vLLM image a profile's figures hold for: vllm/vllm-openai at the profile's vLLM version, never `:latest` (a
 * newer vLLM schedules, batches and budgets memory differently from the build the Twin was calibrated on). A release
 * (0.24.0) is its own tag (v0.24.0). A development build names no published image: the release it derives from is
 * the nearest one; the shipped H100 profiles were calibrated on the research runs' vLLM fork (0.1.dev6216+g1125ba0),
 * which is not published, and v0.8.5, the release it forked from, is the image that comes closest.
 */
export function defaultImage(vllmVersion: string): string {
  if (/^\d+\.\d+\.\d+(\.\d+)?$/.test(vllmVersion)) return `vllm/vllm-openai:v${vllmVersion}`;
  return `vllm/vllm-openai:v${versionParts(vllmVersion).join('.')}`;
}
