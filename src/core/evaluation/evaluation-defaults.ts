// What a dataset evaluation does when not told otherwise, shared by its front ends (`findimage
// eval --dataset`, `findimage tune`, the web page). A module of its own with no imports: the
// CLI registers its commands at every start, and must not load the evaluation code to do so.

/** The cut-offs a dataset evaluation grades at when none are asked for. */
export const DEFAULT_EVAL_KS: readonly number[] = [1, 5, 10];
