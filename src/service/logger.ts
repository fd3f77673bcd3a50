import { pino } from 'pino';

/**
 * Structured JSON logs on standard error (standard output belongs to command results such as
 * `analyze --json`). Secrets are redacted by path wherever they could appear.
 */
export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    base: { pid: process.pid },
    redact: {
      paths: [
        'apiKey',
        'token',
        'authorization',
        '*.apiKey',
        '*.token',
        '*.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  },
  pino.destination(2),
);
export type Logger = typeof logger;
