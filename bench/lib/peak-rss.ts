/** Resetting a process's VmHWM, so the peak of one phase can be read on its own (Linux ≥ 4.0). */
import { writeFileSync } from 'node:fs';

/**
 * Writes `5` to /proc/<pid>/clear_refs, which resets VmHWM to the current RSS.
 * Returns false when the kernel or permissions refuse (the caller then keeps
 * the whole-life peak and says so).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
