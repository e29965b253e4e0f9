// A tiny Hugging Face hub on 127.0.0.1 for tests: serves a fake model's files at
// /<repo>/resolve/<revision>/<path>, honours Range, and can redirect, drop, corrupt or refuse.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelSpec } from '../model-spec.js';
import { CLIP_MEAN, CLIP_STD } from '../model-spec.js';

/** How the fake hub misbehaves for one file. */
export interface FileBehaviour {
  /** Answer /resolve/ with a 302 to /cdn/<path>, as the hub does for LFS files. */
  redirect?: boolean;
  /** Send this many body bytes and then cut the connection, on the first `dropTimes` requests. */
  dropAfterBytes?: number;
  /** How many requests are cut (default 1). */
  dropTimes?: number;
  /** Ignore Range headers and always send the whole file with 200. */
  ignoreRange?: boolean;
  /** Serve bytes of the right size whose last byte is flipped. */
  corrupt?: boolean;
  /** Answer every request with this status and no body. */
  status?: number;
}

/** One request the fake hub saw. */
export interface SeenRequest {
  /** The request path. */
  path: string;
  /** The Range header, if any. */
  range: string | undefined;
}

/** A fake model: its spec (source huggingface, pointing at FAKE_REPO) and its files' bytes. */
export interface FakeModel {
  /** Spec whose sizes and sha256s match `bytes`. */
  spec: ModelSpec;
  /** The content of each file, by repository path. */
  bytes: Map<string, Buffer>;
}

export const FAKE_REPO = 'test-org/fake-clip';
export const FAKE_REVISION = '0123456789abcdef0123456789abcdef01234567';

/** Builds a fake model of random bytes (sizes chosen so transfers span several chunks). */
export function buildFakeModel(sizes = { text: 300_000, vision: 500_000, tokenizer: 20_000 }): FakeModel {
  const bytes = new Map<string, Buffer>([
    ['onnx/text_model.onnx', randomBytes(sizes.text)],
    ['onnx/vision_model.onnx', randomBytes(sizes.vision)],
    ['tokenizer.json', randomBytes(sizes.tokenizer)],
  ]);
  const pin = (path: string) => {
    const content = bytes.get(path) ?? Buffer.alloc(0);
    return { path, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  };
  const spec: ModelSpec = {
    id: 'fake-clip',
    description: 'A fake model served by the test hub.',
    developmentOnly: true,
    source: { kind: 'huggingface', repo: FAKE_REPO, revision: FAKE_REVISION },
    files: {
      textModel: pin('onnx/text_model.onnx'),
      visionModel: pin('onnx/vision_model.onnx'),
      tokenizer: pin('tokenizer.json'),
    },
    dimension: 512,
    text: { contextLength: 77, bosId: 49406, eosId: 49407, padId: 49407, inputName: 'input_ids', outputName: 'text_embeds' },
    vision: { imageSize: 224, mean: CLIP_MEAN, std: CLIP_STD, inputName: 'pixel_values', outputName: 'image_embeds' },
  };
  return { spec, bytes };
}

/** A running fake hub. */
export class FakeHub {
  /** Every request seen, in order. */
  readonly requests: SeenRequest[] = [];
  /** Per-file behaviour, by repository path; change it between calls as a test needs. */
  readonly behaviours = new Map<string, FileBehaviour>();
  private readonly drops = new Map<string, number>();
  private readonly server: Server;
  private port = 0;

  private constructor(private readonly model: FakeModel) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Starts a hub for `model` on a random 127.0.0.1 port. */
  static async start(model: FakeModel): Promise<FakeHub> {
    const hub = new FakeHub(model);
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    hub.port = (hub.server.address() as AddressInfo).port;
    return hub;
  }

  /** Base URL to pass as FINDIMAGE_MODEL_URL. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests seen for one file (both /resolve/ and /cdn/). */
  requestsFor(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path.endsWith(`/${path}`));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range;
    this.requests.push({ path, range });
    const resolvePrefix = `/${FAKE_REPO}/resolve/${FAKE_REVISION}/`;
    const cdnPrefix = '/cdn/';
    let file: string;
    let viaCdn = false;
    if (path.startsWith(resolvePrefix)) file = path.slice(resolvePrefix.length);
    else if (path.startsWith(cdnPrefix)) {
      file = path.slice(cdnPrefix.length);
      viaCdn = true;
    } else {
      res.writeHead(404).end();
      return;
    }
    const content = this.model.bytes.get(file);
    if (content === undefined) {
      res.writeHead(404).end();
      return;
    }
    const behaviour = this.behaviours.get(file) ?? {};
    if (behaviour.status !== undefined) {
      res.writeHead(behaviour.status).end();
      return;
    }
    if (behaviour.redirect === true && !viaCdn) {
      res.writeHead(302, { location: `${this.baseUrl}${cdnPrefix}${file}` }).end();
      return;
    }
    let body = content;
    if (behaviour.corrupt === true) {
      body = Buffer.from(content);
      body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff;
    }
    const start = behaviour.ignoreRange === true ? 0 : parseRangeStart(range);
    const part = body.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': part.length, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);

    const dropped = this.drops.get(file) ?? 0;
    if (behaviour.dropAfterBytes !== undefined && dropped < (behaviour.dropTimes ?? 1)) {
      this.drops.set(file, dropped + 1);
      res.write(part.subarray(0, behaviour.dropAfterBytes), () => {
        // Closed mid-body with a FIN, which TCP delivers after the bytes written before it (a
        // reset could discard bytes the client has not read yet).
        res.socket?.end();
      });
      return;
    }
    res.end(part);
  }
}

function parseRangeStart(range: string | undefined): number {
  const match = /^bytes=(\d+)-$/.exec(range ?? '');
  return match === null ? 0 : Number(match[1]);
}
