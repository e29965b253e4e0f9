// qdrant.env support: Qdrant settings may live in a file beside the project (as docker-compose
// uses it) instead of the environment. Variables already in the environment win.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** The file read when present; FINDIMAGE_ENV_FILE names another. */
export const DEFAULT_ENV_FILE = 'qdrant.env';

export function withEnvFile(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const path = resolve(cwd, env.FINDIMAGE_ENV_FILE ?? DEFAULT_ENV_FILE);
  if (!existsSync(path)) return env;
  const fromFile = parseEnv(readFileSync(path, 'utf8'));
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of Object.entries(fromFile)) {
    // An empty value in the file means "not set", so the documented template stays inert.
    if (merged[key] === undefined && value !== undefined && value !== '') merged[key] = value;
  }
  return merged;
}
