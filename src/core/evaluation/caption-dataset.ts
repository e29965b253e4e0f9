// A captioned image dataset: a folder of images and captions.jsonl, one row per image
// ({"image": "relative/path.jpg", "captions": ["...", "..."]}). Each caption is a query; its
// image, and any other image with the exact same caption, is what that query should find.
import { ConfigError } from '../errors.js';

/** The file that lists a dataset's images and their captions, inside the dataset folder. */
export const CAPTIONS_FILE = 'captions.jsonl';

/** One image of a dataset and what it shows, in the dataset's own words. */
export interface CaptionedImage {
  /** Path of the image relative to the dataset folder, with "/" separators. */
  image: string;
  /** Captions of the image; paraphrases are just more captions. Never empty. */
  captions: string[];
}

/** One caption as a query, with the images it should find (as dataset row indices). */
export interface CaptionQuery {
  /** The caption, as written in the dataset. */
  text: string;
  /** The row whose caption this is. */
  image: number;
  /** Rows of every image carrying this exact caption (the own row included). */
  relevant: number[];
}

/**
 * Parses captions.jsonl. Blank lines are skipped; anything else that is not a row of the
 * documented shape is refused with a ConfigError naming the line, as is an image listed twice
 * or a path that leaves the dataset folder.
 */
export function parseCaptionsJsonl(text: string): CaptionedImage[] {
  const rows: CaptionedImage[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${CAPTIONS_FILE} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ConfigError(`${where} is not JSON. Write one object per line: {"image": "a.jpg", "captions": ["a dog on grass"]}.`);
    }
    const row = value as { image?: unknown; captions?: unknown };
    if (typeof value !== 'object' || value === null || typeof row.image !== 'string' || row.image.trim() === '') {
      throw new ConfigError(`${where} has no "image" path. Write {"image": "a.jpg", "captions": ["..."]}.`);
    }
    const image = row.image.replace(/\\/g, '/');
    if (image.startsWith('/') || image.split('/').includes('..')) {
      throw new ConfigError(`${where}: the image path "${image}" must stay inside the dataset folder (relative, no "..").`);
    }
    if (!Array.isArray(row.captions) || row.captions.length === 0 || row.captions.some((c) => typeof c !== 'string' || c.trim() === '')) {
      throw new ConfigError(`${where}: "captions" must be a non-empty list of non-empty strings.`);
    }
    if (seen.has(image)) throw new ConfigError(`${where} lists ${image} again; give each image one row with all its captions.`);
    seen.add(image);
    rows.push({ image, captions: (row.captions as string[]).map((c) => c.trim()) });
  });
  if (rows.length === 0) throw new ConfigError(`${CAPTIONS_FILE} lists no images.`);
  return rows;
}

/** Writes rows as captions.jsonl text (one JSON object per line, ending in a newline). */
export function formatCaptionsJsonl(rows: readonly CaptionedImage[]): string {
  return rows.map((row) => JSON.stringify({ image: row.image, captions: row.captions })).join('\n') + '\n';
}

/** Every caption as a query, in dataset order; images sharing an exact caption are all relevant. */
export function captionQueries(rows: readonly CaptionedImage[]): CaptionQuery[] {
  const imagesByCaption = new Map<string, number[]>();
  rows.forEach((row, image) => {
    for (const caption of new Set(row.captions)) {
      const list = imagesByCaption.get(caption) ?? [];
      list.push(image);
      imagesByCaption.set(caption, list);
    }
  });
  return rows.flatMap((row, image) => row.captions.map((text) => ({ text, image, relevant: imagesByCaption.get(text) ?? [image] })));
}
