// The page's calls to the JSON API (docs/web.md). Errors come back as ApiError with the
// server's message, so every view can show why something failed.
import type { Tuning } from './search-address.js';

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

/** What the relative cut-off did to a search. */
export interface CutOff {
  /** The relative cut-off applied (0: none). */
  applied: number;
  /** Results it dropped among those read (the page plus one). */
  below: number;
  /** More than `below` may lie under it. */
  mayBeMore: boolean;
}

/** A page of results. */
export interface SearchAnswer {
  query?: string;
  image?: string;
  /** Image searches: the name of the image searched by. */
  imageName?: string;
  model: string;
  queryId?: string;
  offset: number;
  k: number;
  hasMore: boolean;
  truncated?: boolean;
  /** The search's own prompt template, when it brought one. */
  template?: string;
  /** The search's own relative cut-off, when it brought one. */
  minScore?: number;
  cutOff?: CutOff;
  results: Result[];
}

export type { Tuning } from './search-address.js';

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

/** Where in the typed query a syntax error lies. */
export interface Span {
  start: number;
  end: number;
}

/** A refusal from the API, with its code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked to wait before trying again (503 not_ready). */
    readonly retryAfter?: number,
    /** The part of the query at fault, for a query syntax error. */
    readonly span?: Span,
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
  const body = (await response.json().catch(() => undefined)) as { error?: string; message?: string; span?: Span } | undefined;
  if (!response.ok) {
    if (response.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
    throw new ApiError(response.status, body?.error ?? 'http_error', body?.message ?? `The server answered ${response.status}.`, Number.isFinite(retryAfter) ? retryAfter : undefined, body?.span);
  }
  return body as T;
}

/** Whether this server asks for a login (it does off loopback), so the page offers a logout. */
export function session(): Promise<{ login: boolean }> {
  return call('/api/session');
}

/** The query parameters of a search's own settings. */
function tuningParams(tuning: Tuning, withTemplate: boolean): Record<string, string> {
  return {
    ...(tuning.minScore === undefined ? {} : { minScore: String(tuning.minScore) }),
    ...(!withTemplate || tuning.template === undefined ? {} : { template: tuning.template }),
  };
}

/** Starts a search by description (a new queryId when something is found). */
export function search(q: string, k: number, offset: number, tuning: Tuning = {}): Promise<SearchAnswer> {
  return call(`/api/search?${new URLSearchParams({ q, k: String(k), offset: String(offset), ...tuningParams(tuning, true) })}`);
}

/** Starts a "more like this" search on an indexed image (no template: nothing is worded). */
export function similar(id: string, k: number, offset: number, tuning: Tuning = {}): Promise<SearchAnswer> {
  return call(`/api/images/${encodeURIComponent(id)}/similar?${new URLSearchParams({ k: String(k), offset: String(offset), ...tuningParams(tuning, false) })}`);
}

/** Another page of an earlier search of any kind (a dropped image's too), by its queryId. */
export function searchPage(queryId: string, k: number, offset: number): Promise<SearchAnswer> {
  return call(`/api/searches/${encodeURIComponent(queryId)}?${new URLSearchParams({ k: String(k), offset: String(offset) })}`);
}

export function searchByImage(file: File, k: number, tuning: Tuning = {}): Promise<SearchAnswer> {
  const form = new FormData();
  form.append('file', file, file.name);
  return call(`/api/search/image?${new URLSearchParams({ k: String(k), ...tuningParams(tuning, false) })}`, { method: 'POST', body: form });
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

/** The viewer's image: the original, or a large rendition of a format browsers cannot show. */
export function largeUrl(id: string): string {
  return `/api/images/${encodeURIComponent(id)}/large`;
}

/** The original file, sent as a download under its own name. */
export function originalUrl(id: string): string {
  return `/api/images/${encodeURIComponent(id)}/original`;
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
