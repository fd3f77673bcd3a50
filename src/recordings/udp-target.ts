/**
 * `udp:HOST:PORT` as Telnyx writes fork targets. HOST is a literal IPv4/IPv6 address (IPv6 may be bracketed) or
 * `localhost`; names are refused so a replay never depends on DNS.
 */
import { isIP } from 'node:net';

export interface UdpTarget {
  host: string;
  port: number;
  family: 4 | 6;
}

/** Parses `udp:HOST:PORT`; throws an Error whose message is one line naming `flag`. */
export function parseUdpTarget(text: string, flag: string): UdpTarget {
  const bad = (why: string) =>
    new Error(`${flag} '${text}': ${why} (expected udp:HOST:PORT, e.g. udp:127.0.0.1:40000)`);
  if (!text.startsWith('udp:')) throw bad('must start with udp:');
  const rest = text.slice(4);
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') throw bad('unterminated [IPv6] address');
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon <= 0) throw bad('missing host or port');
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }
  if (host === 'localhost') host = '127.0.0.1';
  const family = isIP(host);
  if (family === 0) throw bad(`host '${host}' is not a literal IP address or localhost`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw bad(`port '${portText}' is not 1-65535`);
  }
  return { host, port: Number(portText), family: family as 4 | 6 };
}

export function formatUdpTarget(target: UdpTarget): string {
  return target.family === 6 ? `udp:[${target.host}]:${target.port}` : `udp:${target.host}:${target.port}`;
}
