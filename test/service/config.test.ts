import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownerOfPort, ownerOfStream, splitPortRange } from '../../src/service/cluster/port-split.ts';
import { describeConfig, loadServiceConfig } from '../../src/service/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('start configuration', () => {
  it('has documented defaults', () => {
    const c = loadServiceConfig({}, {});
    expect(c).toMatchObject({
      rtpPorts: { first: 40000, last: 40999 },
      strepPort: null,
      httpPort: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      redisIsDefault: true,
      idleMs: 10_000,
      reorderMs: 40,
      fixedReorderWait: false,
      queuePrefix: 'bull',
      keyPrefix: 'forkguard:',
      workers: 1,
      tickMs: 5,
      transcriptionEngine: 'Telnyx',
      autoFork: false,
      secrets: { telnyxApiKey: null, telnyxPublicKey: null, apiToken: null },
    });
  });

  it('takes flags over environment over defaults', () => {
    const env = {
      FORKGUARD_HTTP_PORT: '9090',
      FORKGUARD_RTP_PORTS: '50000-50099',
      REDIS_URL: 'redis://10.0.0.1:6380',
    };
    const c = loadServiceConfig({ httpPort: '9191' }, env);
    expect(c.httpPort).toBe(9191);
    expect(c.rtpPorts).toEqual({ first: 50000, last: 50099 });
    expect(c.redisUrl).toBe('redis://10.0.0.1:6380');
    expect(c.redisIsDefault).toBe(false);
  });

  it.each([
    [
      { rtpPorts: '40001-40010' },
      {},
      '--rtp-ports: expected A-B with A even, got "40001-40010" (the rx port of a pair must be even)',
    ],
    [{ rtpPorts: '40000-40010' }, {}, '--rtp-ports: expected A-B with B odd'],
    [{ rtpPorts: '40000' }, {}, '--rtp-ports: expected A-B (e.g. 40000-40999), got "40000"'],
    [{}, { FORKGUARD_RTP_PORTS: '5-3' }, 'FORKGUARD_RTP_PORTS: expected A-B with 1 <= A < B <= 65535'],
    [{ httpPort: '70000' }, {}, '--http-port: expected a TCP port'],
    [{ host: 'localhost' }, {}, '--host: expected the bind address as a literal IPv4 or IPv6 address'],
    [{ reorderMs: '80' }, {}, '--reorder-ms: expected milliseconds (a whole number from 0 to 60), got "80"'],
    [{ workers: 'many' }, {}, '--workers: expected a whole number from 1 to 256 or auto'],
    [{}, { FORKGUARD_ALLOW_CIDRS: '10.0.0.0/8,bogus' }, 'FORKGUARD_ALLOW_CIDRS: allow-list entry "bogus"'],
    [{ actions: 'robocall=explode' }, {}, '--actions: action map: unknown action "explode"'],
    [{ transcriptionEngine: 'whisper' }, {}, '--transcription-engine: expected one of Google, Telnyx'],
    [{}, { REDIS_URL: 'http://x:secretpw@h' }, 'REDIS_URL: expected redis://'],
    [
      {},
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent, got "loud"',
    ],
    [{ strepPort: '40100' }, {}, '--strep-port: 40100 lies inside --rtp-ports 40000-40999'],
    [{ rtpPorts: '40000-40003', workers: '3' }, {}, '--workers: 3 workers need at least 3 port pairs'],
    [{ autoFork: true }, {}, '--auto-fork: needs FORKGUARD_PUBLIC_IP'],
    [{}, { TELNYX_BASE_URL: 'not a url' }, 'TELNYX_BASE_URL: expected an absolute URL'],
  ])('names the field and the fix: %j %j', (flags, env, message) => {
    expect(() => loadServiceConfig(flags, env)).toThrow(message);
  });

  it('takes the fixed reorder wait from its flag or its environment variable, and names a bad value', () => {
    expect(loadServiceConfig({ fixedReorderWait: true }, {}).fixedReorderWait).toBe(true);
    expect(loadServiceConfig({}, { FORKGUARD_FIXED_REORDER_WAIT: 'true' }).fixedReorderWait).toBe(true);
    expect(() => loadServiceConfig({}, { FORKGUARD_FIXED_REORDER_WAIT: 'sometimes' })).toThrow(
      /^FORKGUARD_FIXED_REORDER_WAIT: /,
    );
  });

  it('never echoes a Redis password in an error', () => {
    expect(() => loadServiceConfig({}, { REDIS_URL: 'http://x:secretpw@h' })).toThrow(/x:\*\*\*@h/);
  });

  it('reads secrets from the environment or from NAME_FILE, and keeps them out of the description', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'file-token-value\n');
    const c = loadServiceConfig({}, { TELNYX_API_KEY: 'KEY_abc', FORKGUARD_API_TOKEN_FILE: file });
    expect(c.secrets).toEqual({
      telnyxApiKey: 'KEY_abc',
      telnyxPublicKey: null,
      apiToken: 'file-token-value',
    });
    const text = JSON.stringify(describeConfig(c));
    expect(text).not.toContain('KEY_abc');
    expect(text).not.toContain('file-token-value');
    expect(() => loadServiceConfig({}, { TELNYX_PUBLIC_KEY_FILE: join(dir, 'missing') })).toThrow(
      /TELNYX_PUBLIC_KEY_FILE: cannot read .*missing \(ENOENT\)/,
    );
    expect(() => loadServiceConfig({}, { TELNYX_API_KEY: 'a', TELNYX_API_KEY_FILE: file })).toThrow(
      'TELNYX_API_KEY and TELNYX_API_KEY_FILE are both set',
    );
  });
});

describe('port split for workers', () => {
  it('gives each worker contiguous whole pairs covering the range exactly once', () => {
    for (const workers of [1, 2, 3, 7]) {
      const slices = splitPortRange({ first: 40000, last: 40019 }, workers);
      expect(slices).toHaveLength(workers);
      expect(slices[0].first).toBe(40000);
      expect(slices.at(-1)?.last).toBe(40019);
      for (let i = 0; i < slices.length; i++) {
        expect(slices[i].first % 2).toBe(0);
        expect(slices[i].last % 2).toBe(1);
        if (i > 0) expect(slices[i].first).toBe(slices[i - 1].last + 1);
        const pairs = (slices[i].last - slices[i].first + 1) / 2;
        expect(pairs).toBeGreaterThanOrEqual(Math.floor(10 / workers));
        expect(pairs).toBeLessThanOrEqual(Math.ceil(10 / workers));
      }
    }
    expect(() => splitPortRange({ first: 40000, last: 40003 }, 3)).toThrow(/2 port pairs among 3 workers/);
  });

  it('routes ports and streams to their owner', () => {
    const slices = splitPortRange({ first: 40000, last: 40007 }, 2);
    expect(ownerOfPort(slices, 40000)).toBe(0);
    expect(ownerOfPort(slices, 40003)).toBe(0);
    expect(ownerOfPort(slices, 40004)).toBe(1);
    expect(ownerOfPort(slices, 40008)).toBe(-1);
    expect(ownerOfStream(slices, 'udp:40006')).toBe(1);
    expect(ownerOfStream(slices, 'strep:0f0e0d0c-0000-0000-0000-000000000000')).toBe(0);
    expect(ownerOfStream(slices, 'transcription:x')).toBe(-1);
  });
});
