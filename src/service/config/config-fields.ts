import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { type ActionMap, DEFAULT_ACTION_MAP, parseActionMap } from '../../alert/action-plan.ts';
import type { TranscriptionSettings } from '../../alert/actions/perform-action.ts';
import { type PayloadTypeMap, parsePayloadTypeList } from '../../ingest/payload-types.ts';
import type { PortPairRange } from '../../ingest/sessions/session-table.ts';
import { CidrAllowList } from '../../ingest/trust/cidr.ts';

/**
 * Every setting of `forkguard start` that may come from a flag or the environment: one row per setting, so the
 * help text, the loader and the README table cannot drift apart. Each value is parsed from its text form by a zod
 * schema whose message says what was expected and how to fix it; the loader prefixes the flag or variable the
 * text came from. Secrets are not here: they are read from the environment only (see load-config.ts).
 */
export interface ConfigField<T> {
  /** Commander's attribute name for the flag. */
  key: string;
  flag: string;
  env: string;
  /** Text form of the default, parsed like any other value; undefined = unset. */
  defaultText?: string;
  /** How the default reads in help and docs when it is not a plain value. */
  defaultLabel?: string;
  help: string;
  boolean?: boolean;
  schema: z.ZodType<T, string>;
}

function field<T>(spec: ConfigField<T>): ConfigField<T> {
  return spec;
}

const ENGINES = [
  'Google',
  'Telnyx',
  'Deepgram',
  'Azure',
  'xAI',
  'AssemblyAI',
  'Speechmatics',
  'Soniox',
  'Parakeet',
  'Humain',
  'Reson8',
  'Cohere',
  'A',
  'B',
] as const satisfies readonly TranscriptionSettings['engine'][];

/** Adds one issue whose message is the whole explanation, and yields zod's NEVER. */
function fail(ctx: z.RefinementCtx<string>, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

function wholeNumber(min: number, max: number, what: string) {
  return z.string().transform((text, ctx): number => {
    const n = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
      return fail(ctx, `expected ${what} (a whole number from ${min} to ${max}), got "${text}"`);
    }
    return n;
  });
}

const udpPort = (what: string) => wholeNumber(1, 65535, what);

export const portRangeSchema = z.string().transform((text, ctx): PortPairRange => {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  if (!m) return fail(ctx, `expected A-B (e.g. 40000-40999), got "${text}"`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < 1 || last > 65535 || last <= first) {
    return fail(ctx, `expected A-B with 1 <= A < B <= 65535, got "${text}"`);
  }
  if (first % 2 !== 0) {
    return fail(ctx, `expected A-B with A even, got "${text}" (the rx port of a pair must be even)`);
  }
  if (last % 2 !== 1) {
    return fail(
      ctx,
      `expected A-B with B odd, got "${text}" (the range must end on the tx port P+1 of a pair)`,
    );
  }
  return { first, last };
});

const ipAddress = (what: string) =>
  z.string().transform((text, ctx): string => {
    const t = text.trim();
    if (isIP(t) === 0) return fail(ctx, `expected ${what} as a literal IPv4 or IPv6 address, got "${text}"`);
    return t;
  });

const booleanText = z.string().transform((text, ctx): boolean => {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  return fail(ctx, `expected true or false, got "${text}"`);
});

function fromThrowing<T>(parse: (text: string) => T, hint: string) {
  return z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (err) {
      return fail(ctx, `${err instanceof Error ? err.message : String(err)} (${hint})`);
    }
  });
}

export const CONFIG_FIELDS = {
  rtpPorts: field({
    key: 'rtpPorts',
    flag: '--rtp-ports <A-B>',
    env: 'FORKGUARD_RTP_PORTS',
    defaultText: '40000-40999',
    help: 'UDP port-pair range for forked media: rx on even P, tx on P+1',
    schema: portRangeSchema,
  }),
  strepPort: field({
    key: 'strepPort',
    flag: '--strep-port <N|off>',
    env: 'FORKGUARD_STREP_PORT',
    defaultText: 'off',
    help: "UDP port for Telnyx's legacy single `target` fork (24-byte STREP header), or off",
    schema: z.string().transform((text, ctx): number | null => {
      if (text.trim().toLowerCase() === 'off') return null;
      const n = Number(text.trim());
      if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) {
        return fail(ctx, `expected a UDP port (1-65535) or off, got "${text}"`);
      }
      return n;
    }),
  }),
  httpPort: field({
    key: 'httpPort',
    flag: '--http-port <N>',
    env: 'FORKGUARD_HTTP_PORT',
    defaultText: '8080',
    help: 'TCP port of the HTTP server (webhooks, /v1/forks, /healthz, /metrics)',
    schema: udpPort('a TCP port'),
  }),
  host: field({
    key: 'host',
    flag: '--host <IP>',
    env: 'FORKGUARD_HOST',
    defaultText: '127.0.0.1',
    help: 'address the UDP and HTTP sockets bind to (0.0.0.0 to take traffic from other hosts)',
    schema: ipAddress('the bind address'),
  }),
  publicIp: field({
    key: 'publicIp',
    flag: '--public-ip <IP>',
    env: 'FORKGUARD_PUBLIC_IP',
    defaultLabel: 'unset (fork control off)',
    help: 'address written into fork_start rx/tx targets; also names this host in the port-lease registry',
    schema: ipAddress('the public address'),
  }),
  redisUrl: field({
    key: 'redisUrl',
    flag: '--redis-url <URL>',
    env: 'REDIS_URL',
    defaultLabel: 'redis://127.0.0.1:6379 (a redis-server is started there when none answers)',
    help: 'Redis for alerts, actions, port leases, webhook dedup and the replay index',
    schema: z.string().transform((text, ctx): string => {
      try {
        const url = new URL(text.trim());
        if (url.protocol === 'redis:' || url.protocol === 'rediss:') return text.trim();
      } catch {}
      return fail(
        ctx,
        `expected redis://[user:password@]host:port[/db] or rediss://..., got "${redactUrl(text)}"`,
      );
    }),
  }),
  idleMs: field({
    key: 'idleMs',
    flag: '--idle-ms <ms>',
    env: 'FORKGUARD_IDLE_MS',
    defaultText: '10000',
    help: 'a session with no packet for this long ends',
    schema: wholeNumber(100, 86_400_000, 'milliseconds'),
  }),
  maxSessions: field({
    key: 'maxSessions',
    flag: '--max-sessions <N>',
    env: 'FORKGUARD_MAX_SESSIONS',
    defaultText: '4096',
    help: 'live sessions per worker process; packets that would open another are dropped (session_limit)',
    schema: wholeNumber(1, 1_000_000, 'a session count'),
  }),
  allowCidrs: field({
    key: 'allowCidrs',
    flag: '--allow-cidrs <list>',
    env: 'FORKGUARD_ALLOW_CIDRS',
    defaultLabel: 'any source',
    help: 'comma-separated source CIDRs media is accepted from (e.g. Telnyx media ranges)',
    schema: fromThrowing((text) => {
      const cidrs = text
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '');
      new CidrAllowList(cidrs);
      return cidrs;
    }, 'expected comma-separated CIDRs such as 192.0.2.0/24,2001:db8::/32'),
  }),
  maxPpsPerSource: field({
    key: 'maxPpsPerSource',
    flag: '--max-pps-per-source <N>',
    env: 'FORKGUARD_MAX_PPS_PER_SOURCE',
    defaultText: '0',
    defaultLabel: '0 (no cap)',
    help: 'packets per second one source address may send; 0 = no cap (a media server carries many calls)',
    schema: wholeNumber(0, 100_000_000, 'packets per second'),
  }),
  reorderMs: field({
    key: 'reorderMs',
    flag: '--reorder-ms <ms>',
    env: 'FORKGUARD_REORDER_MS',
    defaultText: '40',
    help: 'how long a leg waits for late packets before concealing the gap',
    schema: wholeNumber(0, 60, 'milliseconds'),
  }),
  fixedReorderWait: field({
    key: 'fixedReorderWait',
    flag: '--fixed-reorder-wait',
    env: 'FORKGUARD_FIXED_REORDER_WAIT',
    defaultText: 'false',
    boolean: true,
    help: 'wait --reorder-ms for every gap; by default a leg whose last 8 gaps were all lost, none reordered, stops waiting until a packet comes out of order',
    schema: booleanText,
  }),
  payloadTypes: field<PayloadTypeMap>({
    key: 'payloadTypes',
    flag: '--payload-types <list>',
    env: 'FORKGUARD_PAYLOAD_TYPES',
    defaultLabel:
      '0 pcmu, 8 pcma, 9 g722, 13 cn, 18 g729, 96 opus, 97/98 l16, 99 amr-wb, 100 l16-16k, 101 telephone-event',
    help: 'dynamic payload types added to the defaults, e.g. 111=opus,100=telephone-event',
    schema: fromThrowing(parsePayloadTypeList, 'expected PT=codec pairs such as 111=opus'),
  }),
  model: field({
    key: 'model',
    flag: '--model <manifest>',
    env: 'FORKGUARD_MODEL',
    defaultLabel: 'the model named by models/default.json',
    help: 'model manifest to score with',
    schema: z.string().min(1, 'expected a path to a model manifest'),
  }),
  queuePrefix: field({
    key: 'queuePrefix',
    flag: '--queue-prefix <prefix>',
    env: 'FORKGUARD_QUEUE_PREFIX',
    defaultText: 'bull',
    help: 'BullMQ key prefix of the forkguard-alerts and forkguard-actions queues',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits and _ . : - (a Redis key prefix)'),
  }),
  keyPrefix: field({
    key: 'keyPrefix',
    flag: '--key-prefix <prefix>',
    env: 'FORKGUARD_KEY_PREFIX',
    defaultText: 'forkguard:',
    help: "prefix of forkguard's own Redis keys (port leases, webhook dedup, replay index)",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits and _ . : - (a Redis key prefix)'),
  }),
  actions: field<ActionMap>({
    key: 'actions',
    flag: '--actions <map>',
    env: 'FORKGUARD_ACTIONS',
    defaultLabel: Object.entries(DEFAULT_ACTION_MAP)
      .map(([kind, actions]) => `${kind}=${actions.length ? actions.join('+') : 'none'}`)
      .join(','),
    help: 'Telnyx actions per alert kind, over the defaults: kind=action[+action],... (none = nothing)',
    schema: fromThrowing((text) => parseActionMap(text), 'e.g. pumping=stop_forking+hangup,robocall=none'),
  }),
  transcriptionEngine: field({
    key: 'transcriptionEngine',
    flag: '--transcription-engine <name>',
    env: 'FORKGUARD_TRANSCRIPTION_ENGINE',
    defaultText: 'Telnyx',
    help: `engine for start_transcription (${ENGINES.join(', ')})`,
    schema: z.string().transform((text, ctx): TranscriptionSettings['engine'] => {
      const engine = ENGINES.find((e) => e.toLowerCase() === text.trim().toLowerCase());
      return engine ?? fail(ctx, `expected one of ${ENGINES.join(', ')}, got "${text}"`);
    }),
  }),
  autoFork: field({
    key: 'autoFork',
    flag: '--auto-fork',
    env: 'FORKGUARD_AUTO_FORK',
    defaultText: 'false',
    boolean: true,
    help: 'fork every call on call.answered (needs TELNYX_API_KEY and FORKGUARD_PUBLIC_IP)',
    schema: booleanText,
  }),
  workers: field({
    key: 'workers',
    flag: '--workers <N|auto>',
    env: 'FORKGUARD_WORKERS',
    defaultText: '1',
    help: 'media worker processes (auto = one per core); each owns a slice of the port range',
    schema: z.string().transform((text, ctx): number => {
      if (text.trim().toLowerCase() === 'auto') return availableParallelism();
      const n = Number(text.trim());
      if (!/^\d+$/.test(text.trim()) || n < 1 || n > 256) {
        return fail(ctx, `expected a whole number from 1 to 256 or auto, got "${text}"`);
      }
      return n;
    }),
  }),
  tickMs: field({
    key: 'tickMs',
    flag: '--tick-ms <ms>',
    env: 'FORKGUARD_TICK_MS',
    defaultText: '5',
    help: 'shortest time between two model runs: ready windows are scored at once, together with all others ready',
    schema: wholeNumber(0, 1000, 'milliseconds'),
  }),
  shutdownFlushMs: field({
    key: 'shutdownFlushMs',
    flag: '--shutdown-flush-ms <ms>',
    env: 'FORKGUARD_SHUTDOWN_FLUSH_MS',
    defaultText: '5000',
    help: 'at SIGTERM, how long buffered alerts may take to reach Redis before they are logged as lost',
    schema: wholeNumber(0, 600_000, 'milliseconds'),
  }),
  logLevel: field({
    key: 'logLevel',
    flag: '--log-level <level>',
    env: 'LOG_LEVEL',
    defaultText: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent (JSON logs on standard error)',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: (issue) => `expected fatal, error, warn, info, debug, trace or silent, got "${issue.input}"`,
    }),
  }),
} as const;

export type ConfigFieldName = keyof typeof CONFIG_FIELDS;

/** The URL without its password, for messages. */
export function redactUrl(text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
