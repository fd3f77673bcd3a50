import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { ActionMap } from '../../alert/action-plan.ts';
import type { TranscriptionSettings } from '../../alert/actions/perform-action.ts';
import type { PayloadTypeMap } from '../../ingest/payload-types.ts';
import type { PortPairRange } from '../../ingest/sessions/session-table.ts';
import { CONFIG_FIELDS, type ConfigField, type ConfigFieldName, redactUrl } from './config-fields.ts';

/** Settings read from the environment only (or from a file named by `<NAME>_FILE`), never from flags or logs. */
export interface ServiceSecrets {
  telnyxApiKey: string | null;
  telnyxPublicKey: string | null;
  apiToken: string | null;
}

export interface ServiceConfig {
  rtpPorts: PortPairRange;
  strepPort: number | null;
  httpPort: number;
  host: string;
  publicIp: string | null;
  redisUrl: string;
  /** True when no Redis was configured: a local redis-server may be started (embedded-redis.ts). */
  redisIsDefault: boolean;
  idleMs: number;
  maxSessions: number;
  allowCidrs: string[];
  maxPpsPerSource: number;
  reorderMs: number;
  fixedReorderWait: boolean;
  payloadTypes: PayloadTypeMap | null;
  /** Manifest path, or null for models/default.json. */
  model: string | null;
  queuePrefix: string;
  keyPrefix: string;
  actions: ActionMap | null;
  transcriptionEngine: TranscriptionSettings['engine'];
  autoFork: boolean;
  workers: number;
  tickMs: number;
  shutdownFlushMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** TELNYX_BASE_URL (the SDK's base URL), null for the real API. */
  telnyxBaseUrl: string | null;
  secrets: ServiceSecrets;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A bad setting: the message names the flag or variable and says what to write instead. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type FlagValues = Record<string, string | boolean | undefined>;
export type Environment = Record<string, string | undefined>;

function flagName(spec: ConfigField<unknown>): string {
  return spec.flag.split(' ')[0];
}

/** One field from the flag, else the environment, else its default; errors name where the bad text came from. */
function readField<T>(spec: ConfigField<T>, flags: FlagValues, env: Environment): T | undefined {
  const flagValue = flags[spec.key];
  let text: string | undefined;
  let source: string;
  if (flagValue !== undefined) {
    text = typeof flagValue === 'boolean' ? String(flagValue) : flagValue;
    source = flagName(spec);
  } else if (env[spec.env] !== undefined && env[spec.env] !== '') {
    text = env[spec.env];
    source = spec.env;
  } else {
    text = spec.defaultText;
    source = `${flagName(spec)} (default)`;
  }
  if (text === undefined) return undefined;
  const parsed = (spec.schema as z.ZodType<T, string>).safeParse(text);
  if (!parsed.success) throw new ConfigError(`${source}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** `NAME` from the environment, or the trimmed contents of the file named by `NAME_FILE` (Docker/K8s secrets). */
export function readSecret(env: Environment, name: string): string | null {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    throw new ConfigError(`${name} and ${name}_FILE are both set: keep one`);
  }
  if (direct !== undefined && direct !== '') return direct.trim();
  if (!file) return null;
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value === '') throw new ConfigError(`${name}_FILE: ${file} is empty`);
    return value;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
}

/**
 * The service configuration from `start`'s flags and the environment, validated field by field and then as a
 * whole. Throws ConfigError with a one-line message.
 */
export function loadServiceConfig(flags: FlagValues, env: Environment = process.env): ServiceConfig {
  const get = <K extends ConfigFieldName>(name: K) =>
    readField(CONFIG_FIELDS[name] as ConfigField<unknown>, flags, env) as
      | z.output<(typeof CONFIG_FIELDS)[K]['schema']>
      | undefined;
  const rtpPorts = get('rtpPorts') as PortPairRange;
  const strepPort = get('strepPort') ?? null;
  const httpPort = get('httpPort') as number;
  const workers = get('workers') as number;
  const redisUrl = get('redisUrl');
  const config: ServiceConfig = {
    rtpPorts,
    strepPort,
    httpPort,
    host: get('host') as string,
    publicIp: get('publicIp') ?? null,
    redisUrl: redisUrl ?? DEFAULT_REDIS_URL,
    redisIsDefault: redisUrl === undefined,
    idleMs: get('idleMs') as number,
    maxSessions: get('maxSessions') as number,
    allowCidrs: get('allowCidrs') ?? [],
    maxPpsPerSource: get('maxPpsPerSource') as number,
    reorderMs: get('reorderMs') as number,
    fixedReorderWait: get('fixedReorderWait') as boolean,
    payloadTypes: get('payloadTypes') ?? null,
    model: get('model') ?? null,
    queuePrefix: get('queuePrefix') as string,
    keyPrefix: get('keyPrefix') as string,
    actions: get('actions') ?? null,
    transcriptionEngine: get('transcriptionEngine') as TranscriptionSettings['engine'],
    autoFork: get('autoFork') as boolean,
    workers,
    tickMs: get('tickMs') as number,
    shutdownFlushMs: get('shutdownFlushMs') as number,
    logLevel: get('logLevel') as ServiceConfig['logLevel'],
    telnyxBaseUrl: env.TELNYX_BASE_URL ? env.TELNYX_BASE_URL : null,
    secrets: {
      telnyxApiKey: readSecret(env, 'TELNYX_API_KEY'),
      telnyxPublicKey: readSecret(env, 'TELNYX_PUBLIC_KEY'),
      apiToken: readSecret(env, 'FORKGUARD_API_TOKEN'),
    },
  };
  checkCombination(config);
  return config;
}

function checkCombination(c: ServiceConfig): void {
  const { first, last } = c.rtpPorts;
  const inRange = (port: number) => port >= first && port <= last;
  if (c.strepPort !== null && inRange(c.strepPort)) {
    throw new ConfigError(
      `--strep-port: ${c.strepPort} lies inside --rtp-ports ${first}-${last}; pick a port outside the range`,
    );
  }
  if (inRange(c.httpPort)) {
    throw new ConfigError(
      `--http-port: ${c.httpPort} lies inside --rtp-ports ${first}-${last}; pick a port outside the range`,
    );
  }
  const pairs = (last - first + 1) / 2;
  if (c.workers > pairs) {
    throw new ConfigError(
      `--workers: ${c.workers} workers need at least ${c.workers} port pairs, but --rtp-ports ${first}-${last} has ${pairs}; widen the range or use fewer workers`,
    );
  }
  if (c.autoFork && (c.publicIp === null || c.secrets.telnyxApiKey === null)) {
    throw new ConfigError(
      '--auto-fork: needs FORKGUARD_PUBLIC_IP (or --public-ip) and TELNYX_API_KEY to start forks',
    );
  }
  if (c.telnyxBaseUrl !== null) {
    try {
      new URL(c.telnyxBaseUrl);
    } catch {
      throw new ConfigError(
        `TELNYX_BASE_URL: expected an absolute URL such as https://api.telnyx.com/v2, got "${c.telnyxBaseUrl}"`,
      );
    }
  }
}

/** What the startup log may show: everything but secrets (only whether each is set) and Redis passwords. */
export function describeConfig(c: ServiceConfig): Record<string, unknown> {
  const { secrets, redisUrl, actions, payloadTypes, ...rest } = c;
  return {
    ...rest,
    rtpPorts: `${c.rtpPorts.first}-${c.rtpPorts.last}`,
    redisUrl: redactUrl(redisUrl),
    actions: actions ?? 'defaults',
    payloadTypes: payloadTypes ? 'custom' : 'defaults',
    telnyxApiKeySet: secrets.telnyxApiKey !== null,
    telnyxPublicKeySet: secrets.telnyxPublicKey !== null,
    apiTokenSet: secrets.apiToken !== null,
  };
}
