import { runWorkTask, type WorkEnvelope, type WorkTask } from './work-task.js';

/** Worker-thread entry of the service's work pool (src/jobs/work-queue.ts). */
export default function workTask(task: WorkTask): Promise<WorkEnvelope> {
  return runWorkTask(task);
}
