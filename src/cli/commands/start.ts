import { type Command, Option } from 'commander';
import { CONFIG_FIELDS, type ConfigField } from '../../service/config/config-fields.ts';
import { ConfigError, type FlagValues, loadServiceConfig } from '../../service/config/load-config.ts';
import { runService } from '../../service/service.ts';
import { CliError } from '../cli-error.ts';

const HELP = `
Every flag can also be set by the environment variable shown; a flag wins over the environment.

Secrets (environment only, never logged; NAME_FILE=/path reads the value from a file instead):
  TELNYX_API_KEY        Telnyx API key: the action worker and fork control need it
  TELNYX_PUBLIC_KEY     base64 Ed25519 public key verifying webhooks (unset: /webhooks/telnyx answers 503)
  FORKGUARD_API_TOKEN   bearer token for POST/DELETE /v1/forks (unset: fork control answers 503)
Other environment:
  TELNYX_BASE_URL       the Telnyx API base URL (default https://api.telnyx.com/v2)

HTTP: POST /webhooks/telnyx, POST /v1/forks, DELETE /v1/forks/{call_control_id}, GET /healthz, GET /metrics.
Media: rx on even port P and tx on P+1 of --rtp-ports; packets on a pair no fork announced are analysed as
call "udp:P" and its alerts carry null call ids. Alerts go to the BullMQ queue forkguard-alerts.

Without REDIS_URL, a redis-server is started on 127.0.0.1:6379 when nothing answers there (and stopped at exit).
SIGTERM/SIGINT: stop intake, end every session (last windows scored), flush alerts to Redis, exit 0; a second
signal exits at once. Logs: JSON lines on standard error.`;

function describe(spec: ConfigField<unknown>): string {
  const fallback = spec.defaultLabel ?? spec.defaultText;
  return `${spec.help} [env ${spec.env}${fallback === undefined ? '' : `; default ${fallback}`}]`;
}

export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description(
      'run the service: UDP ingest, scoring, alert queue, action worker, HTTP (webhooks, health, metrics)',
    )
    .addHelpText('after', HELP);
  for (const spec of Object.values(CONFIG_FIELDS) as ConfigField<unknown>[]) {
    // No commander defaults: an unset flag must fall through to the environment, then to the field's default.
    command.addOption(new Option(spec.flag, describe(spec)));
  }
  command.action(async (flags: FlagValues) => {
    let config: ReturnType<typeof loadServiceConfig>;
    try {
      config = loadServiceConfig(flags, process.env);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message);
      throw err;
    }
    let code: number;
    try {
      code = await runService(config);
    } catch (err) {
      throw new CliError(`start: ${(err as Error).message}`, 1);
    }
    process.exit(code);
  });
}
