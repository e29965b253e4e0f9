// Finds the image files below a folder for `findimage index`, without stopping at a bad entry:
// an unreadable folder, a dangling or looping link, a file over the size limit, or a pipe is
// listed as skipped with the reason. Names are walked as bytes (Buffer paths), so a name that is
// not UTF-8 is read all the same. Links are followed; each real file and folder is taken once.
import type { BigIntStats, Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { FindimageError } from '../core/errors.js';
import { MAX_IMAGE_BYTES } from '../core/image/image-decoder.js';
import { displayName, isUtf8Name } from './file-names.js';
import { tooLargeMessage, unreadable } from '../core/image/image-files.js';

/** File endings looked at; other files are counted as ignored, not reported one by one. */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg', '.jpeg', '.jfif', '.png', '.webp', '.gif', '.avif', '.tif', '.tiff', '.heic', '.heif', '.svg',
]);

/** An image file found below the folder. */
export interface FolderImage {
  /** The path to read: bytes, so that a name that is not UTF-8 still opens. */
  path: Buffer;
  /**
   * The absolute path as text, stored in the index: the name itself when it is UTF-8, else the
   * escaped form `displayName` gives (which people can read but the file system cannot open).
   */
  text: string;
  /** The path below the folder, escaped for the terminal. */
  shown: string;
}

/** An entry that was not indexed, and why. */
export interface SkippedEntry {
  /** The path below the folder, escaped for the terminal (a folder's ends with "/"). */
  path: string;
  /** Why, in words. */
  reason: string;
}

export interface FolderListing {
  /** Image files to index, each real file once, in a stable order. */
  images: FolderImage[];
  /** Entries that were not indexed, with the reason. */
  skipped: SkippedEntry[];
  /** Files whose names are not images (counted, not listed). */
  ignored: number;
}

/** The same file or folder reached twice (through a link or a hard link) has the same key. */
type FileKey = string;

function keyOf(info: BigIntStats): FileKey {
  return `${info.dev}:${info.ino}`;
}

interface Candidate extends FolderImage {
  key: FileKey;
  /** Reached through a symbolic link (somewhere on its path or as itself). */
  viaLink: boolean;
}

/** The walk's state: what was found, and which real folders were entered already. */
interface Walk {
  root: Buffer;
  candidates: Candidate[];
  skipped: SkippedEntry[];
  ignored: number;
  /** Real folders entered, by key, with the path they were entered by. */
  folders: Map<FileKey, string>;
}

/**
 * Lists the image files below `folder` (recursively; hidden files are left out). Throws a
 * FindimageError 'not_found' only when the folder itself is missing, not a folder or unreadable.
 */
export async function listFolderImages(folder: string, maxBytes = MAX_IMAGE_BYTES): Promise<FolderListing> {
  const root = Buffer.from(resolve(folder));
  const rootShown = displayName(root);
  const info = await stat(root, { bigint: true }).catch((error: unknown) => {
    throw unreadable(error, rootShown);
  });
  if (!info.isDirectory()) {
    throw new FindimageError('not_found', `${rootShown} is not a folder. Give the folder that holds your images.`);
  }
  const walk: Walk = { root, candidates: [], skipped: [], ignored: 0, folders: new Map([[keyOf(info), '.']]) };
  const entries = await readdir(root, { withFileTypes: true, encoding: 'buffer' }).catch((error: unknown) => {
    throw unreadable(error, rootShown);
  });
  await visitEntries(walk, root, entries, new Set([keyOf(info)]), false, maxBytes);
  return { ...keepEachFileOnce(walk.candidates, walk.skipped), ignored: walk.ignored };
}

async function visitFolder(
  walk: Walk,
  dir: Buffer,
  ancestors: ReadonlySet<FileKey>,
  viaLink: boolean,
  maxBytes: number,
): Promise<void> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (error) {
    walk.skipped.push({ path: `${shownOf(walk, dir)}/`, reason: `the folder could not be read: ${reasonOf(error)}` });
    return;
  }
  await visitEntries(walk, dir, entries, ancestors, viaLink, maxBytes);
}

async function visitEntries(
  walk: Walk,
  dir: Buffer,
  entries: Dirent<Buffer>[],
  ancestors: ReadonlySet<FileKey>,
  viaLink: boolean,
  maxBytes: number,
): Promise<void> {
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  for (const entry of entries) {
    const name = entry.name;
    const path = Buffer.concat([dir, Buffer.from(sep), name]);
    const isImageName = IMAGE_EXTENSIONS.has(extname(name.toString('latin1')).toLowerCase());
    if (entry.isFile()) {
      if (name[0] === DOT) continue;
      if (isImageName) await addFile(walk, path, viaLink, maxBytes);
      else walk.ignored++;
    } else if (entry.isDirectory()) {
      await enterFolder(walk, path, ancestors, viaLink, maxBytes);
    } else if (entry.isSymbolicLink()) {
      if (name[0] === DOT) continue;
      await followLink(walk, path, isImageName, ancestors, maxBytes);
    } else if (isImageName && name[0] !== DOT) {
      walk.skipped.push({ path: shownOf(walk, path), reason: 'not a regular file (a pipe, socket or device), so it was not read' });
    } else {
      walk.ignored++;
    }
  }
}

const DOT = '.'.charCodeAt(0);

async function enterFolder(walk: Walk, path: Buffer, ancestors: ReadonlySet<FileKey>, viaLink: boolean, maxBytes: number): Promise<void> {
  let info: BigIntStats;
  try {
    info = await stat(path, { bigint: true });
  } catch (error) {
    walk.skipped.push({ path: `${shownOf(walk, path)}/`, reason: `the folder could not be read: ${reasonOf(error)}` });
    return;
  }
  const key = keyOf(info);
  if (ancestors.has(key)) {
    walk.skipped.push({ path: `${shownOf(walk, path)}/`, reason: 'a link back to a folder above it (a loop), so not followed' });
    return;
  }
  const enteredAs = walk.folders.get(key);
  if (enteredAs !== undefined) {
    walk.skipped.push({ path: `${shownOf(walk, path)}/`, reason: `the same folder as ${enteredAs}/, indexed once` });
    return;
  }
  walk.folders.set(key, shownOf(walk, path));
  await visitFolder(walk, path, new Set([...ancestors, key]), viaLink, maxBytes);
}

async function followLink(
  walk: Walk,
  path: Buffer,
  isImageName: boolean,
  ancestors: ReadonlySet<FileKey>,
  maxBytes: number,
): Promise<void> {
  let info: BigIntStats;
  try {
    info = await stat(path, { bigint: true });
  } catch (error) {
    walk.skipped.push({ path: shownOf(walk, path), reason: `a symbolic link that was not followed: ${linkReasonOf(error)}` });
    return;
  }
  if (info.isDirectory()) {
    await enterFolder(walk, path, ancestors, true, maxBytes);
  } else if (!isImageName) {
    walk.ignored++;
  } else if (info.isFile()) {
    await addFile(walk, path, true, maxBytes, info);
  } else {
    walk.skipped.push({ path: shownOf(walk, path), reason: 'a link to something that is not a regular file (a pipe, socket or device)' });
  }
}

async function addFile(walk: Walk, path: Buffer, viaLink: boolean, maxBytes: number, known?: BigIntStats): Promise<void> {
  let info: BigIntStats;
  try {
    info = known ?? (await stat(path, { bigint: true }));
  } catch (error) {
    walk.skipped.push({ path: shownOf(walk, path), reason: `the file could not be read: ${reasonOf(error)}` });
    return;
  }
  // Refused from stat alone: a 3 GB "scan.tif" is never opened, let alone read.
  if (info.size > BigInt(maxBytes)) {
    walk.skipped.push({ path: shownOf(walk, path), reason: tooLargeMessage(Number(info.size), maxBytes) });
    return;
  }
  walk.candidates.push({
    path,
    text: isUtf8Name(path) ? path.toString('utf8') : displayName(path),
    shown: shownOf(walk, path),
    key: keyOf(info),
    viaLink,
  });
}

/**
 * Keeps one path per real file: the first reached without a link, else the first. Every other
 * path of the same file is listed as skipped, naming the one kept.
 */
function keepEachFileOnce(candidates: Candidate[], skipped: SkippedEntry[]): Omit<FolderListing, 'ignored'> {
  const kept = new Map<FileKey, Candidate>();
  for (const candidate of candidates) {
    const first = kept.get(candidate.key);
    if (first === undefined || (first.viaLink && !candidate.viaLink)) kept.set(candidate.key, candidate);
  }
  const images: FolderImage[] = [];
  const duplicates: SkippedEntry[] = [];
  for (const candidate of candidates) {
    const chosen = kept.get(candidate.key) as Candidate;
    if (chosen === candidate) images.push({ path: candidate.path, text: candidate.text, shown: candidate.shown });
    else {
      const how = candidate.viaLink ? 'reached again through a link' : 'a hard link';
      duplicates.push({ path: candidate.shown, reason: `the same file as ${chosen.shown} (${how}), indexed once` });
    }
  }
  return { images, skipped: [...skipped, ...duplicates] };
}

function shownOf(walk: Walk, path: Buffer): string {
  return displayName(path.subarray(walk.root.length + 1));
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'it is gone';
  if (code === 'ELOOP') return 'too many levels of links';
  return code ?? String(error);
}

function linkReasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'it points to nothing (the target is missing)';
  if (code === 'ELOOP') return 'it loops back on itself';
  if (code === 'EACCES' || code === 'EPERM') return 'its target cannot be read (permission denied)';
  return `its target could not be read (${code ?? String(error)})`;
}
