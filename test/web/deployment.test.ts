// The container runs the web app where people and probes can reach it: the Dockerfile listens
// on every interface of the container, and docker-compose publishes the port to this machine
// only and calls findimage healthy once /readyz answers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string) => readFileSync(file, 'utf8');

describe('web app deployment', () => {
  it('publishes the web port on loopback and uses /readyz as the healthcheck', () => {
    const compose = read('docker-compose.yml');
    const findimage = compose.slice(compose.indexOf('\n  findimage:'));
    expect(findimage).toContain('- "127.0.0.1:8765:8765"');
    expect(findimage).toMatch(/healthcheck:[\s\S]*http:\/\/127\.0\.0\.1:8765\/readyz/);
    expect(findimage).toContain('FINDIMAGE_WEB_TOKEN');
  });

  it('builds the page into the image and exposes the port', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^COPY web \.\/web$/m);
    expect(dockerfile).toMatch(/^COPY scripts\/build-web\.mjs/m);
    expect(dockerfile).toMatch(/FINDIMAGE_WEB_HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/^EXPOSE 8765$/m);
  });
});
