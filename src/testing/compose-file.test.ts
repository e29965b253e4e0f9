// The compose-file reader the deployment tests rely on: the block-style subset read as YAML
// reads it, and everything outside the subset refused rather than misread.
import { describe, expect, it } from 'vitest';
import { parseComposeYaml } from './compose-file.js';

describe('parseComposeYaml', () => {
  it('reads mappings, sequences of scalars and of mappings, quoted and flow scalars, and skips comments', () => {
    const text = [
      '# a comment',
      'services:',
      '  web:  # trailing comment',
      '    profiles: [fleet, extra]',
      '    command: ["node", "-e", "a # not a comment"]',
      '    ports:',
      '      - "127.0.0.1:80:80"',
      '    environment:',
      '      A: "true"',
      "      B: 'it''s'",
      '      C: 5',
      '      D: ${X:-y}',
      '    devices:',
      '      - driver: nvidia',
      '        count: 1',
      '        capabilities: [gpu]',
      '    test:',
      '      - CMD',
      '      - "printf \'a\\\\r\\\\n\'"',
      'volumes:',
      '  data:',
    ].join('\n');
    expect(parseComposeYaml(text)).toEqual({
      services: {
        web: {
          profiles: ['fleet', 'extra'],
          command: ['node', '-e', 'a # not a comment'],
          ports: ['127.0.0.1:80:80'],
          environment: { A: 'true', B: "it's", C: 5, D: '${X:-y}' },
          devices: [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }],
          test: ['CMD', "printf 'a\\r\\n'"],
        },
      },
      volumes: { data: null },
    });
  });

  it('refuses what it does not read: anchors, block scalars, flow mappings, tabs, duplicate keys', () => {
    expect(() => parseComposeYaml('a: &x 1')).toThrow(/unsupported YAML/);
    expect(() => parseComposeYaml('a: |\n  text')).toThrow(/unsupported YAML/);
    expect(() => parseComposeYaml('a: {b: 1}')).toThrow(/unsupported YAML/);
    expect(() => parseComposeYaml('a:\n\tb: 1')).toThrow(/tabs/);
    expect(() => parseComposeYaml('a: 1\na: 2')).toThrow(/duplicate key a/);
    expect(() => parseComposeYaml('a:\n  b: 1\n c: 2')).toThrow(/line 3/);
  });
});
