// Converts the caption files people already have into captions.jsonl rows: Karpathy's split
// JSON (dataset_flickr30k.json, dataset_coco.json), and COCO's captions_*.json annotations.
import { ConfigError } from '../errors.js';
import type { CaptionedImage } from './caption-dataset.js';

/** The annotation formats `findimage dataset import --format` reads. */
export const DATASET_FORMATS = ['flickr30k', 'coco'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** A row and the file it names inside the annotation's images folder. */
export interface ImportedImage extends CaptionedImage {
  /** Path of the source image relative to the images folder given on the command line. */
  source: string;
}

/**
 * Rows of a Karpathy split file ({"images": [{"filename", "filepath"?, "split", "sentences":
 * [{"raw"}]}]}), keeping only images of `split` ("test" is the 1k test split of Flickr30k and
 * the 5k one of COCO).
 */
export function importKarpathy(json: unknown, split: string): ImportedImage[] {
  const images = (json as { images?: unknown } | null)?.images;
  if (!Array.isArray(images)) throw new ConfigError('This is not a Karpathy split file: it has no "images" list (expected dataset_flickr30k.json).');
  const rows: ImportedImage[] = [];
  images.forEach((entry: unknown, index) => {
    const image = entry as { filename?: unknown; filepath?: unknown; split?: unknown; sentences?: unknown };
    if (typeof image.filename !== 'string' || !Array.isArray(image.sentences)) {
      throw new ConfigError(`Karpathy file: images[${index}] has no "filename" or "sentences".`);
    }
    if (image.split !== split) return;
    const captions = image.sentences
      .map((s: unknown) => (s as { raw?: unknown }).raw)
      .filter((raw): raw is string => typeof raw === 'string' && raw.trim() !== '')
      .map((raw) => raw.trim());
    if (captions.length === 0) return;
    const source = typeof image.filepath === 'string' && image.filepath !== '' ? `${image.filepath}/${image.filename}` : image.filename;
    rows.push({ image: `images/${image.filename}`, source, captions });
  });
  if (rows.length === 0) throw new ConfigError(`The Karpathy file has no captioned image in split "${split}".`);
  return rows;
}

/** Rows of a COCO captions file ({"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}). */
export function importCoco(json: unknown): ImportedImage[] {
  const file = json as { images?: unknown; annotations?: unknown } | null;
  if (!Array.isArray(file?.images) || !Array.isArray(file?.annotations)) {
    throw new ConfigError('This is not a COCO captions file: it needs "images" and "annotations" lists (expected captions_val2017.json).');
  }
  const captions = new Map<number, string[]>();
  file.annotations.forEach((entry: unknown, index) => {
    const annotation = entry as { image_id?: unknown; caption?: unknown };
    if (typeof annotation.image_id !== 'number' || typeof annotation.caption !== 'string') {
      throw new ConfigError(`COCO file: annotations[${index}] has no numeric "image_id" or string "caption".`);
    }
    if (annotation.caption.trim() === '') return;
    const list = captions.get(annotation.image_id) ?? [];
    list.push(annotation.caption.trim());
    captions.set(annotation.image_id, list);
  });
  const rows: ImportedImage[] = [];
  file.images.forEach((entry: unknown, index) => {
    const image = entry as { id?: unknown; file_name?: unknown };
    if (typeof image.id !== 'number' || typeof image.file_name !== 'string') {
      throw new ConfigError(`COCO file: images[${index}] has no numeric "id" or "file_name".`);
    }
    const list = captions.get(image.id);
    if (list !== undefined) rows.push({ image: `images/${image.file_name}`, source: image.file_name, captions: list });
  });
  if (rows.length === 0) throw new ConfigError('The COCO file has no image with a caption.');
  return rows;
}
