import { afterEach, describe, expect, it } from 'vitest';
import { ensureRedis, redisAnswers } from '../../src/service/embedded-redis.ts';

// A port unique to this file: the embedded Redis of the tests never touches the shared one on 6379.
const PORT = 23190;
const URL_DEFAULT = `redis://127.0.0.1:${PORT}`;
const savedPath = process.env.PATH;

afterEach(() => {
  process.env.PATH = savedPath;
});

describe('embedded Redis', () => {
  it('starts a redis-server it owns where none answers, and stops it again', async () => {
    expect(await redisAnswers('127.0.0.1', PORT)).toBe(false);
    const handle = await ensureRedis(URL_DEFAULT, true);
    try {
      expect(handle.embedded).toBe(true);
      expect(await redisAnswers('127.0.0.1', PORT)).toBe(true);
      // a second caller finds it answering and does not start another
      const again = await ensureRedis(URL_DEFAULT, true);
      expect(again.embedded).toBe(false);
    } finally {
      await handle.stop();
    }
    expect(await redisAnswers('127.0.0.1', PORT)).toBe(false);
  });

  it('never starts one for a configured REDIS_URL', async () => {
    const handle = await ensureRedis(URL_DEFAULT, false);
    expect(handle.embedded).toBe(false);
    expect(await redisAnswers('127.0.0.1', PORT)).toBe(false);
  });

  it('says to install redis-server or set REDIS_URL when it is missing', async () => {
    process.env.PATH = '/nonexistent';
    await expect(ensureRedis(URL_DEFAULT, true)).rejects.toThrow(
      `no Redis answers on 127.0.0.1:${PORT} and redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL`,
    );
  });
});
