import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Tests run against a real Redis: make sure one answers before any test file starts. */
export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/ensure-redis.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
}
