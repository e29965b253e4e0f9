// Downloading from Slack's file host against the fake: token, host, size cap, status and content type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlackApi } from '../../../test/fakes/slack/fake-slack-api.js';
import { InvalidImageError } from '../../core/errors.js';
import { createSilentLogger } from '../../logger.js';
import { SlackDownloadError, SlackFileDownloader, fileRefsFrom, type SlackFileRef } from './file-download.js';

const TOKEN = 'xoxb-test';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const MB = 1024 * 1024;

describe('SlackFileDownloader', () => {
  let api: FakeSlackApi;
  const downloader = (maxBytes = 5 * MB, botToken = TOKEN) =>
    new SlackFileDownloader({ botToken, apiUrl: api.apiUrl, maxBytes, logger: createSilentLogger() });
  const ref = (file: Parameters<FakeSlackApi['addFile']>[0]): SlackFileRef => {
    const [parsed] = fileRefsFrom([api.addFile(file)]);
    if (parsed === undefined) throw new Error('the fake produced an unreadable file object');
    return parsed;
  };

  beforeAll(async () => {
    api = await FakeSlackApi.start([TOKEN]);
  });
  afterAll(async () => {
    await api.close();
  });

  it('downloads the original with the bot token as a bearer token', async () => {
    const file = ref({ id: 'F1', name: 'cat.png', mimetype: 'image/png', bytes: PNG });
    expect(await downloader().download(file)).toEqual(PNG);
    expect(api.fileStats('F1').authorizations).toEqual([`Bearer ${TOKEN}`]);
  });

  it('refuses a 200 MB file that Slack declares as such without making any request', async () => {
    const file = ref({ id: 'F2', name: 'huge.png', mimetype: 'image/png', size: 200 * MB, serving: 'huge-declared' });
    const attempt = downloader().download(file);
    await expect(attempt).rejects.toBeInstanceOf(InvalidImageError);
    await expect(attempt).rejects.toThrow('huge.png is 200 MB; I index images up to 5.0 MB.');
    expect(api.fileStats('F2').requests).toBe(0);
  });

  it('refuses a body whose Content-Length is over the cap before reading it', async () => {
    const file = ref({ id: 'F3', name: 'liar.png', mimetype: 'image/png', size: 1000, serving: 'huge-declared', declaredLength: 200 * MB });
    await expect(downloader().download(file)).rejects.toThrow('liar.png is 200 MB; I index images up to 5.0 MB.');
    expect(api.fileStats('F3').requests).toBe(1);
    // The server filled socket buffers at most; it never got near sending the 200 MB.
    expect(api.fileStats('F3').served).toBeLessThan(50 * MB);
  });

  it('stops reading a body with no length as soon as it passes the cap', async () => {
    const file = ref({ id: 'F4', name: 'endless.png', mimetype: 'image/png', size: 1000, serving: 'huge-chunked', declaredLength: 200 * MB });
    await expect(downloader(1 * MB).download(file)).rejects.toThrow('endless.png is over 1.0 MB, the largest image I index.');
    expect(api.fileStats('F4').served).toBeLessThan(50 * MB);
  });

  it('refuses the HTML sign-in page Slack serves in place of a file', async () => {
    const file = ref({ id: 'F5', name: 'photo.jpg', mimetype: 'image/jpeg', bytes: PNG, serving: 'login-page' });
    const attempt = downloader().download(file);
    await expect(attempt).rejects.toBeInstanceOf(SlackDownloadError);
    await expect(attempt).rejects.toThrow(/Slack sent a web page \(probably its sign-in page\) instead of photo\.jpg/);
  });

  it('does not follow the redirect to the sign-in page that a refused token gets', async () => {
    const file = ref({ id: 'F6', name: 'photo.jpg', mimetype: 'image/jpeg', bytes: PNG });
    await expect(downloader(5 * MB, 'xoxb-revoked').download(file)).rejects.toThrow(
      /Slack sent me to its sign-in page instead of photo\.jpg: the app may lack the files:read permission/,
    );
    expect(api.calls.filter((c) => c.method === 'login')).toEqual([]);
  });

  it('refuses a body that is not an image', async () => {
    const file = ref({ id: 'F7', name: 'notes.png', mimetype: 'image/png', bytes: PNG, contentType: 'application/pdf' });
    await expect(downloader().download(file)).rejects.toThrow('notes.png is not an image (Slack served it as application/pdf).');
  });

  it('reports the HTTP status of a failed download', async () => {
    const file = ref({ id: 'F8', name: 'gone.png', mimetype: 'image/png', serving: 'missing' });
    await expect(downloader().download(file)).rejects.toThrow('Slack answered HTTP 404 when I downloaded gone.png. Please share it again.');
  });

  it('never sends the token to a host other than Slack\'s file host', async () => {
    const file = ref({ id: 'F9', name: 'evil.png', mimetype: 'image/png', bytes: PNG, hostOverride: 'https://evil.example' });
    await expect(downloader().download(file)).rejects.toThrow(
      "I only download files from Slack's own file host, and evil.png is elsewhere (evil.example).",
    );
    const plainHttp = ref({ id: 'F10', name: 'a.png', mimetype: 'image/png', bytes: PNG, hostOverride: 'http://files.slack.com' });
    await expect(downloader().download(plainHttp)).rejects.toThrow(/only download files from Slack's own file host/);
  });
});

describe('fileRefsFrom', () => {
  it('reads the fields the bot needs and drops entries without an id', () => {
    expect(
      fileRefsFrom([
        { id: 'F1', name: 'a.png', mimetype: 'image/png', size: 10, url_private_download: 'https://files.slack.com/x', mode: 'hosted' },
        { name: 'no-id.png' },
        'junk',
        { id: 'F2', name: null, title: 'Pasted image', mimetype: null },
      ]),
    ).toEqual([
      { id: 'F1', name: 'a.png', mimetype: 'image/png', size: 10, urlPrivateDownload: 'https://files.slack.com/x', mode: 'hosted' },
      { id: 'F2', name: 'Pasted image', mimetype: '' },
    ]);
    expect(fileRefsFrom(undefined)).toEqual([]);
  });
});
