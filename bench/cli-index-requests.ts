// Requests per image that `findimage index <folder>` sends to Qdrant (issue 18): the real binary
// of each build given, each run against its own fresh fake Qdrant server (which counts every
// request) on the same folder of generated images, with the tiny test model, one after another
// in one process. Prints, per build, the requests in all, the point lookups and upserts, and
// requests per image with and without the setup (collections, payload indexes, the labels store).
//   node --import tsx bench/cli-index-requests.ts [images=128] [label=path/to/bin/findimage.js ...]
// With no build given it runs this tree's bin/findimage.js (run `npm run build` first).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FakeQdrantServer } from '../test/fakes/qdrant/fake-qdrant-server.js';

const IMAGES = Number(process.argv[2] ?? 128);
const BUILDS = process.argv.slice(3).map((arg) => {
  const at = arg.indexOf('=');
  return at < 0 ? { label: arg, bin: arg } : { label: arg.slice(0, at), bin: arg.slice(at + 1) };
});
if (BUILDS.length === 0) BUILDS.push({ label: 'this tree', bin: fileURLToPath(new URL('../bin/findimage.js', import.meta.url)) });

const home = await mkdtemp(join(tmpdir(), 'findimage-index-requests-'));
const photos = join(home, 'photos');
await mkdir(photos);
for (let i = 0; i < IMAGES; i++) {
  const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: Math.floor(i / 256) * 64 + (i % 4) };
  await sharp({ create: { width: 64, height: 48, channels: 3, background } }).png().toFile(join(photos, `photo${i}.png`));
}

console.log(`| build | images | requests in all | lookups | upserts | requests per image | per image, beyond setup |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const [n, { label, bin }] of BUILDS.entries()) {
  const qdrant = await FakeQdrantServer.start();
  // Each build its own data folder too, so none finds the other's images already indexed.
  const data = join(home, `build${n}`);
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    FINDIMAGE_DATA: join(data, 'data'),
    FINDIMAGE_CACHE: join(data, 'cache'),
    FINDIMAGE_MODEL: 'tiny-test',
    FINDIMAGE_DEVICE: 'cpu',
    LOG_LEVEL: 'warn',
    QDRANT_URL: qdrant.url,
  };
  // Spawned, not spawnSync: the fake server runs in this process and must answer meanwhile.
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'index', photos], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${label}: findimage index exited with ${code}`);
  // The images' collection; a lookup by id is a filtered scroll (Qdrant's retrieve takes no filter).
  const points = '/collections/findimage_tiny-test/points';
  const upserts = qdrant.requests.filter((r) => r.method === 'PUT' && r.path === points).length;
  const lookups = qdrant.requests.filter((r) => r.method === 'POST' && r.path === `${points}/scroll`).length;
  const all = qdrant.requestCount;
  console.log(`| ${label} | ${IMAGES} | ${all} | ${lookups} | ${upserts} | ${(all / IMAGES).toFixed(3)} | ${((lookups + upserts) / IMAGES).toFixed(3)} |`);
  await qdrant.stop();
}
await rm(home, { recursive: true, force: true });
