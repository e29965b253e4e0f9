// The importers read small files in the real Karpathy and COCO formats (fields as published,
// extra fields kept) into captions.jsonl rows.
import { describe, expect, it } from 'vitest';
import { importCoco, importKarpathy } from './dataset-importers.js';

const karpathy = {
  dataset: 'flickr30k',
  images: [
    {
      sentids: [0, 1],
      imgid: 0,
      split: 'test',
      filename: '1000092795.jpg',
      sentences: [
        { tokens: ['two', 'young', 'guys'], raw: 'Two young guys with shaggy hair .', imgid: 0, sentid: 0 },
        { tokens: ['two', 'men'], raw: 'Two men in green shirts are standing in a yard .', imgid: 0, sentid: 1 },
      ],
    },
    { sentids: [2], imgid: 1, split: 'train', filename: '10002456.jpg', sentences: [{ tokens: [], raw: 'Several men in hard hats .', imgid: 1, sentid: 2 }] },
    { sentids: [3], imgid: 2, split: 'test', filepath: 'val2014', filename: 'COCO_val2014_000000391895.jpg', sentences: [{ tokens: [], raw: 'A man riding a motorcycle .', imgid: 2, sentid: 3 }] },
  ],
};

const coco = {
  info: { description: 'COCO 2017 Dataset' },
  images: [
    { license: 4, file_name: '000000397133.jpg', height: 427, width: 640, id: 397133 },
    { license: 1, file_name: '000000037777.jpg', height: 230, width: 352, id: 37777 },
    { license: 1, file_name: '000000000001.jpg', height: 10, width: 10, id: 1 },
  ],
  annotations: [
    { image_id: 397133, id: 370509, caption: 'A man is in a kitchen making pizzas.' },
    { image_id: 37777, id: 1, caption: 'The dining table near the kitchen has a bowl of fruit on it.' },
    { image_id: 397133, id: 2, caption: 'Man in apron standing on front of oven with pans and bakeware ' },
  ],
};

describe('dataset importers', () => {
  it('reads the test split of a Karpathy file, with each raw sentence as a caption', () => {
    expect(importKarpathy(karpathy, 'test')).toEqual([
      {
        image: 'images/1000092795.jpg',
        source: '1000092795.jpg',
        captions: ['Two young guys with shaggy hair .', 'Two men in green shirts are standing in a yard .'],
      },
      { image: 'images/COCO_val2014_000000391895.jpg', source: 'val2014/COCO_val2014_000000391895.jpg', captions: ['A man riding a motorcycle .'] },
    ]);
    expect(importKarpathy(karpathy, 'train').map((r) => r.source)).toEqual(['10002456.jpg']);
  });

  it('refuses a file that is not in the Karpathy format, or a split with no image', () => {
    expect(() => importKarpathy(coco.annotations, 'test')).toThrow(/not a Karpathy split file/);
    expect(() => importKarpathy(karpathy, 'val')).toThrow(/split "val"/);
  });

  it('groups COCO annotations by image and leaves out images without a caption', () => {
    expect(importCoco(coco)).toEqual([
      {
        image: 'images/000000397133.jpg',
        source: '000000397133.jpg',
        captions: ['A man is in a kitchen making pizzas.', 'Man in apron standing on front of oven with pans and bakeware'],
      },
      { image: 'images/000000037777.jpg', source: '000000037777.jpg', captions: ['The dining table near the kitchen has a bowl of fruit on it.'] },
    ]);
    expect(() => importCoco(karpathy)).toThrow(/not a COCO captions file/);
  });
});
