// The index page: drop or pick images, each uploaded on its own with a progress bar and its
// verdict (indexed, already indexed, or the reason it was refused), and the index's counts.
import * as api from './api.js';
import { h, replace, stateBlock } from './dom.js';

/** The server's limit per image (findimage reads images up to 50 MB); checked here first so a large file is refused without sending it. */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Uploads at once: enough to keep the model busy, few enough to show steady progress. */
const PARALLEL_UPLOADS = 3;

export function mountIndex(root: HTMLElement): void {
  const picker = h('input', { type: 'file', id: 'file-input', multiple: true, accept: 'image/*', hidden: true });
  const choose = h('button', { type: 'button', class: 'choose' }, 'Choose images…');
  // Not a Tab stop of its own: dropping needs a mouse, and its button is the keyboard's way in.
  const zone = h('div', { class: 'drop-zone', id: 'drop-zone' }, h('p', {}, 'Drop images here'), h('p', { class: 'hint' }, 'JPEG, PNG, WebP, GIF, AVIF, TIFF or HEIC, up to 50 MB each'), choose, picker);
  const list = h('ul', { class: 'uploads', id: 'uploads' });
  const statsBox = h('section', { class: 'stats', id: 'stats', 'aria-label': 'Index status' });
  root.append(h('h1', {}, 'Add images'), zone, list, h('h2', {}, 'Index status'), statsBox);

  const refresh = async () => {
    try {
      const stats = await api.stats();
      const rows = (record: Record<string, number>) => Object.entries(record).sort().map(([key, n]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, String(n))));
      replace(
        statsBox,
        h('p', { class: 'total' }, `${stats.total} image${stats.total === 1 ? '' : 's'} indexed · ${stats.queue.pending} in the upload queue`),
        h('table', {}, h('caption', {}, 'By source'), h('tbody', {}, ...rows(stats.bySource))),
        h('table', {}, h('caption', {}, 'By model'), h('tbody', {}, ...rows(stats.byModel))),
      );
    } catch (error) {
      replace(statsBox, stateBlock('error', 'Cannot read the index status.', error instanceof Error ? error.message : String(error)));
    }
  };

  const queue: Array<() => Promise<void>> = [];
  let running = 0;
  const pump = () => {
    while (running < PARALLEL_UPLOADS && queue.length > 0) {
      const job = queue.shift();
      if (job === undefined) break;
      running++;
      void job().finally(() => {
        running--;
        if (running === 0 && queue.length === 0) void refresh();
        pump();
      });
    }
  };

  const add = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const bar = h('progress', { max: '1', value: '0' });
      const verdict = h('span', { class: 'verdict' }, 'Waiting…');
      const item = h('li', { class: 'upload', 'data-status': 'waiting' }, h('span', { class: 'name' }, file.name), bar, verdict);
      list.append(item);
      const settle = (status: string, text: string) => {
        item.dataset.status = status;
        bar.value = 1;
        replace(verdict, text);
      };
      if (file.size > MAX_UPLOAD_BYTES) {
        settle('refused', `Refused: the file is ${(file.size / 1024 / 1024).toFixed(1)} MB; findimage reads images up to 50 MB.`);
        continue;
      }
      queue.push(async () => {
        item.dataset.status = 'uploading';
        replace(verdict, 'Uploading…');
        try {
          const answer = await api.upload(file, (fraction) => {
            bar.value = fraction;
            if (fraction >= 1) replace(verdict, 'Indexing…');
          });
          if (answer.status === 'refused') settle('refused', `Refused: ${answer.reason}`);
          else if (answer.status === 'duplicate') settle('duplicate', 'Already indexed');
          else if (answer.status === 'queued') settle('queued', 'Queued: it will be indexed shortly');
          else settle('indexed', 'Indexed');
        } catch (error) {
          settle('refused', `Failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    }
    pump();
  };

  choose.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    if (picker.files !== null) add(picker.files);
    picker.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer !== null) add(event.dataTransfer.files);
  });
  replace(statsBox, stateBlock('loading', 'Reading the index…'));
  void refresh();
}
