// A progress bar per model file on stderr, for `findimage model pull` and first start. Silent when
// stderr is not a terminal, so logs and CI output never fill with carriage returns.
import cliProgress from 'cli-progress';
import type { DownloadProgressEvent, DownloadProgressListener } from './download-progress.js';

/** Redraws per second: enough to look live, cheap next to a download. */
const BAR_FPS = 5;

const MIB = 1024 * 1024;

export interface TerminalDownloadProgressOptions {
  /** Where bars are drawn; defaults to process.stderr. */
  stream?: NodeJS.WriteStream;
}

/** Draws one bar per file as DownloadProgressEvents arrive; pass `listener` to the fetcher. */
export class TerminalDownloadProgress {
  /** The listener to hand to ModelFetcher / locateModelFiles as `onProgress`. */
  readonly listener: DownloadProgressListener;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private bar: cliProgress.SingleBar | undefined;
  private currentFile: string | undefined;

  constructor(options: TerminalDownloadProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = this.stream.isTTY === true;
    this.listener = (event) => this.update(event);
  }

  /** Stops the bar being drawn, leaving its last state on screen. */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.currentFile = undefined;
  }

  private update(event: DownloadProgressEvent): void {
    if (!this.enabled) return;
    if (event.file !== this.currentFile) {
      this.stop();
      this.currentFile = event.file;
      this.bar = new cliProgress.SingleBar({
        stream: this.stream,
        fps: BAR_FPS,
        hideCursor: true,
        format: '{file} [{bar}] {percentage}% | {receivedMiB}/{totalMiB} MiB | ETA {eta_formatted}',
      });
      this.bar.start(event.totalBytes, event.receivedBytes, this.payload(event));
    } else {
      this.bar?.update(event.receivedBytes, this.payload(event));
    }
    if (event.receivedBytes >= event.totalBytes) this.stop();
  }

  private payload(event: DownloadProgressEvent): Record<string, string> {
    return {
      file: event.file,
      receivedMiB: (event.receivedBytes / MIB).toFixed(1),
      totalMiB: (event.totalBytes / MIB).toFixed(1),
    };
  }
}
