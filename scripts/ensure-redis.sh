#!/usr/bin/env bash
# Makes sure a Redis answers on REDIS_URL's host and port (default 127.0.0.1:6379); starts a throwaway
# redis-server there (no persistence) when none answers. Does nothing when one already runs.
set -euo pipefail
url="${REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#redis://}"
hostport="${hostport##*@}"
hostport="${hostport%%/*}"
host="${hostport%%:*}"
port="${hostport##*:}"
[ "$port" = "$host" ] && port=6379
if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then exit 0; fi
case "$host" in
  127.*|localhost|::1) ;;
  *) echo "ensure-redis: no Redis answers at $host:$port and it is not local, so none is started" >&2; exit 1 ;;
esac
echo "ensure-redis: starting redis-server on $host:$port" >&2
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no --dir /tmp \
  --logfile "/tmp/forkguard-redis-$port.log"
for _ in $(seq 1 50); do
  redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on $host:$port" >&2
exit 1
