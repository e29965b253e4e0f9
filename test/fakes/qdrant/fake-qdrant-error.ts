// A failure the fake Qdrant answers with: an HTTP status and the text Qdrant would put in
// `status.error` ("Not found: Collection `x` doesn't exist!", "Wrong input: ...").
export class FakeQdrantError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'FakeQdrantError';
    this.status = status;
  }
}

/** 404 for a collection or alias name that resolves to nothing, worded as Qdrant words it. */
export function collectionNotFound(name: string): FakeQdrantError {
  return new FakeQdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
}

/** 400 for a request body the fake cannot read, worded like actix's JSON error in Qdrant. */
export function formatError(detail: string): FakeQdrantError {
  return new FakeQdrantError(400, `Format error in JSON body: ${detail}`);
}
