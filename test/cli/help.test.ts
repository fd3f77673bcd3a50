import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const bin = new URL('../../bin/forkguard.js', import.meta.url).pathname;

describe('forkguard --help', () => {
  it('lists every command of the contract', () => {
    const out = execFileSync('node', [bin, '--help'], { encoding: 'utf8' });
    for (const command of ['start', 'analyze', 'replay', 'bench', 'corpus', 'train']) {
      expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });
});
