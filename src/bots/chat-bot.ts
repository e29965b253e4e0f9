// The seam between `findimage serve` and each chat platform. A bot adapter translates platform
// events into core calls and core results into platform messages, and nothing more.

export interface ChatBot {
  /** Platform name for logs and the serve banner ("slack", "discord"). */
  readonly platform: string;
  /** Connects and starts handling events; resolves once connected. */
  start(): Promise<void>;
  /** Disconnects; resolves once no more events will be handled. */
  stop(): Promise<void>;
}
