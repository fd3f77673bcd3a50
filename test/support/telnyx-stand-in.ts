import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stand-in saw it. `path` is relative to `/v2` and URL-decoded. */
export interface RecordedRequest {
  method: string;
  path: string;
  rawPath: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or null when the body was empty or not JSON. */
  body: unknown;
  rawBody: string;
  receivedAtMs: number;
}

export interface ScriptedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Canned replies shaped like the Telnyx API's. */
export const reply = {
  ok: (): ScriptedResponse => ({ status: 200, body: { data: { result: 'ok' } } }),
  rateLimited: (retryAfterS: number): ScriptedResponse => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterS) },
    body: { errors: [{ code: '10011', title: 'Too many requests' }] },
  }),
  serverError: (): ScriptedResponse => ({
    status: 500,
    body: { errors: [{ code: '10007', title: 'Unexpected error' }] },
  }),
  callEnded: (): ScriptedResponse => ({
    status: 422,
    body: {
      errors: [
        {
          code: '90018',
          title: 'Call has already ended',
          detail: "This call is no longer active and can't receive commands.",
        },
      ],
    },
  }),
  invalid: (detail: string): ScriptedResponse => ({
    status: 422,
    body: { errors: [{ code: '10015', title: 'Invalid parameter', detail }] },
  }),
};

/**
 * A local HTTP server standing in for the Telnyx API: point the SDK's `baseURL` at `standIn.baseURL`.
 * Responses are scripted per path (a FIFO per path; when it is empty the default, 200, answers) and every
 * request is recorded with method, path, headers and JSON body.
 */
export class TelnyxStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts = new Map<string, ScriptedResponse[]>();
  private readonly waiters = new Set<() => void>();
  private defaultResponse: ScriptedResponse = reply.ok();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Starts on 127.0.0.1 and an OS-chosen port. */
  static async start(): Promise<TelnyxStandIn> {
    let standIn: TelnyxStandIn | null = null;
    const server = createServer((req, res) => standIn?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    standIn = new TelnyxStandIn(server, (server.address() as AddressInfo).port);
    return standIn;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v2`;
  }

  /** Queues replies for requests to `path` (relative to /v2, decoded), answered in order. */
  script(path: string, ...responses: ScriptedResponse[]): void {
    const queue = this.scripts.get(path) ?? [];
    queue.push(...responses);
    this.scripts.set(path, queue);
  }

  /** Reply used when a path has no scripted responses left (default: 200 ok). */
  setDefault(response: ScriptedResponse): void {
    this.defaultResponse = response;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests matching `path` (or any, without it) have arrived; rejects after `timeoutMs`. */
  async waitForRequests(
    count: number,
    options: { path?: string; timeoutMs?: number } = {},
  ): Promise<RecordedRequest[]> {
    const matching = () => (options.path === undefined ? this.requests : this.requestsTo(options.path));
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    while (matching().length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `stand-in: ${matching().length} of ${count} requests to ${options.path ?? '*'} arrived`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return matching();
  }

  reset(): void {
    this.requests.length = 0;
    this.scripts.clear();
    this.defaultResponse = reply.ok();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const rawPath = (req.url ?? '/').split('?')[0];
      const path = decodeURIComponent(rawPath.startsWith('/v2/') ? rawPath.slice(3) : rawPath);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      let body: unknown = null;
      try {
        body = rawBody ? JSON.parse(rawBody) : null;
      } catch {
        body = null;
      }
      this.requests.push({
        method: req.method ?? '',
        path,
        rawPath,
        headers,
        body,
        rawBody,
        receivedAtMs: Date.now(),
      });
      const response = this.scripts.get(path)?.shift() ?? this.defaultResponse;
      res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
      res.end(JSON.stringify(response.body ?? {}));
      for (const wake of this.waiters) wake();
      this.waiters.clear();
    });
  }
}
