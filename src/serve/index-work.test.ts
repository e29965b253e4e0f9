// How a fleet process downloads chat uploads queued by reference: with the tokens of its own
// environment. A platform whose token is set is fetched from with it; one whose token is not set
// fails each of its uploads naming the variable to set, and the process says so when it starts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemoteFile } from '../core/fleet/remote-file.js';
import { captureLog } from '../core/testing/wait-until.js';
import { remoteFilesFor } from './index-work.js';

/** A file host on 127.0.0.1 that serves one PNG-typed body and records each request's Authorization. */
class FileHost {
  readonly authorizations: Array<string | undefined> = [];
  readonly #server: Server;
  private constructor(server: Server) {
    this.#server = server;
  }
  static async start(): Promise<FileHost> {
    let host: FileHost | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      host?.authorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/png' }).end('png bytes');
    });
    host = new FileHost(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return host;
  }
  get origin(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('a fleet process downloading chat uploads', () => {
  let host: FileHost;
  beforeEach(async () => {
    host = await FileHost.start();
  });
  afterEach(async () => {
    await host.close();
  });

  const slackFile = (): RemoteFile => ({ platform: 'slack', url: `${host.origin}/files-pri/T1-F1/download/cat.png`, name: 'cat.png', size: 9, mimetype: 'image/png', fileId: 'F1' });

  it('downloads a Slack file with its own SLACK_BOT_TOKEN', async () => {
    const { logger } = captureLog();
    const files = await remoteFilesFor({ slack: { botToken: 'xoxb-worker', apiUrl: `${host.origin}/api/`, indexedReaction: '' } }, logger);
    expect(Buffer.from(await files.fetch(slackFile())).toString()).toBe('png bytes');
    expect(host.authorizations).toEqual(['Bearer xoxb-worker']);
  });

  it('fails a Discord upload without DISCORD_TOKEN, naming it, and says so when it starts', async () => {
    const log = captureLog();
    const files = await remoteFilesFor({ slack: { botToken: 'xoxb-worker', apiUrl: `${host.origin}/api/`, indexedReaction: '' } }, log.logger);
    const discordFile: RemoteFile = { platform: 'discord', url: `${host.origin}/attachments/1/2/cat.png`, name: 'cat.png', size: 9, fileId: '2' };
    await expect(files.fetch(discordFile)).rejects.toMatchObject({
      code: 'config_invalid',
      message: 'This worker has no DISCORD_TOKEN to download Discord files; set it on every worker (see docs/fleet.md).',
    });
    expect(host.authorizations).toEqual([]);
    expect(log.lines.find((line) => Array.isArray(line['missing']))).toMatchObject({ missing: ['DISCORD_TOKEN'] });
  });

  it('never sends a Slack token to a host that is neither Slack nor SLACK_API_URL', async () => {
    const { logger } = captureLog();
    const files = await remoteFilesFor({ slack: { botToken: 'xoxb-worker', indexedReaction: '' } }, logger);
    await expect(files.fetch(slackFile())).rejects.toMatchObject({ code: 'platform_api' });
    expect(host.authorizations).toEqual([]);
  });
});
