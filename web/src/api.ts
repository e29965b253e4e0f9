// The page's calls to the JSON API (docs/web.md). Errors come back as ApiError with the
// server's message, so every view can show why something failed.

/** One search result. */
export interface Result {
  id: string;
  score: number;
  rank: number;
  filename: string;
  createdAt: string;
  width: number;
  height: number;
  source: string;
}

/** A page of results. */
export interface SearchAnswer {
  query?: string;
  image?: string;
  model: string;
  queryId?: string;
  offset: number;
  k: number;
  hasMore: boolean;
  truncated?: boolean;
  results: Result[];
}

export interface Stats {
  model: string;
  total: number;
  bySource: Record<string, number>;
  byModel: Record<string, number>;
  queue: { pending: number };
}

export interface Metrics {
  precisionAtK: number;
  recallAtK: number;
  ndcgAtK: number;
}

/** A split of the labelled searches: a seeded share held out of feedback and graded. */
export interface LabelSplit {
  share: number;
  seed: number;
}

export interface EvalAnswer {
  model: string;
  k: number;
  curve: Array<{ k: number; plain: Metrics; withFeedback?: Metrics }>;
  queries: Array<{ queryId: string; text: string; judged: number; plain: Metrics; withFeedback?: Metrics }>;
  /** With a split: how many of the judged searches it held out. */
  split?: LabelSplit & { heldOut: number; judged: number };
  /** When the server graded these labels (the same until a vote changes them). */
  computedAt: string;
}

/** What became of one uploaded file. */
export type UploadAnswer =
  | { name: string; status: 'indexed' | 'duplicate' | 'queued'; id: string }
  | { name: string; status: 'refused'; code: string; reason: string };

/** A refusal from the API, with its code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', ...init });
  } catch {
    throw new ApiError(0, 'offline', 'The findimage server does not answer. Is it still running?');
  }
  const body = (await response.json().catch(() => undefined)) as { error?: string; message?: string } | undefined;
  if (!response.ok) {
    if (response.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(response.status, body?.error ?? 'http_error', body?.message ?? `The server answered ${response.status}.`);
  }
  return body as T;
}

/** Whether this server asks for a login (it does off loopback), so the page offers a logout. */
export function session(): Promise<{ login: boolean }> {
  return call('/api/session');
}

/** Starts a search by description (a new queryId when something is found). */
export function search(q: string, k: number, offset: number): Promise<SearchAnswer> {
  return call(`/api/search?${new URLSearchParams({ q, k: String(k), offset: String(offset) })}`);
}

/** Starts a "more like this" search on an indexed image. */
export function similar(id: string, k: number, offset: number): Promise<SearchAnswer> {
  return call(`/api/images/${encodeURIComponent(id)}/similar?${new URLSearchParams({ k: String(k), offset: String(offset) })}`);
}

/** Another page of an earlier search of any kind (a dropped image's too), by its queryId. */
export function searchPage(queryId: string, k: number, offset: number): Promise<SearchAnswer> {
  return call(`/api/searches/${encodeURIComponent(queryId)}?${new URLSearchParams({ k: String(k), offset: String(offset) })}`);
}

export function searchByImage(file: File, k: number): Promise<SearchAnswer> {
  const form = new FormData();
  form.append('file', file, file.name);
  return call(`/api/search/image?k=${k}`, { method: 'POST', body: form });
}

export function vote(queryId: string, imageId: string, user: string, value: 1 | -1 | 0): Promise<unknown> {
  return call('/api/labels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queryId, imageId, user, value }) });
}

export function votesOf(queryId: string, user: string): Promise<{ labels: Array<{ imageId: string; value: 1 | -1 }> }> {
  return call(`/api/labels?${new URLSearchParams({ queryId, user })}`);
}

export function stats(): Promise<Stats> {
  return call('/api/stats');
}

export function evaluation(split?: LabelSplit): Promise<EvalAnswer> {
  const query = split === undefined ? '' : `?${new URLSearchParams({ split: String(split.share), seed: String(split.seed) })}`;
  return call(`/api/eval${query}`);
}

/** The thumbnail URL of an image. */
export function thumbnailUrl(id: string): string {
  return `/api/images/${encodeURIComponent(id)}/thumbnail`;
}

/**
 * Uploads one file, reporting the bytes sent (XMLHttpRequest, since fetch cannot report upload
 * progress). Resolves with the server's verdict for the file.
 */
export function upload(file: File, onProgress: (fraction: number) => void): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/images');
    request.responseType = 'json';
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as { files?: UploadAnswer[]; error?: string; message?: string } | null;
      const answer = body?.files?.[0];
      // A refused file comes back with its reason either way: in a 200 beside stored files, or in
      // the 422 the server sends when nothing in the request was stored.
      if ((request.status === 200 || request.status === 422) && answer !== undefined) resolve(answer);
      else resolve({ name: file.name, status: 'refused', code: body?.error ?? 'http_error', reason: body?.message ?? `The server answered ${request.status}.` });
    };
    request.onerror = () => reject(new ApiError(0, 'offline', 'The upload did not reach the server.'));
    const form = new FormData();
    form.append('file', file, file.name);
    request.send(form);
  });
}
