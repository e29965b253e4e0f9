// Whether a process of this machine still runs, for files that name their writer by pid (the
// content claims, the saved index's temp blocks): a dead writer's leftovers may be taken over.

/** True when a process with this id runs on this machine (a signal 0 reaches it). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
