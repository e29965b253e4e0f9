// How a model download reports progress. Core code only calls the listener; the CLI passes a
// terminal progress bar (terminal-download-progress.ts), services pass nothing or a logger.

/** One step of one file's download. */
export interface DownloadProgressEvent {
  /** The file's path inside the model repository ("onnx/vision_model.onnx"). */
  file: string;
  /** Bytes of this file on disk so far, including any resumed part. */
  receivedBytes: number;
  /** The file's exact size from the registry. */
  totalBytes: number;
}

/** Called as bytes arrive; must return quickly and never throw. */
export type DownloadProgressListener = (event: DownloadProgressEvent) => void;
