/**
 * A loopback stand-in for the EC2 instance metadata service (IMDSv2 only), so
 * the real `fromInstanceMetadata` code path of the AWS SDK runs in tests:
 * `PUT /latest/api/token` hands out a session token, and the IAM credential
 * paths answer only requests that carry it. What credentials it serves is up
 * to the test (radosgw key pairs, so they sign real requests).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/** One credential document. */
export interface ImdsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly token: string;
  readonly expiration: Date;
}

/** A running fake IMDS. */
export interface FakeImds {
  /** `http://127.0.0.1:PORT`, for `AWS_EC2_METADATA_SERVICE_ENDPOINT`. */
  readonly endpoint: string;
  readonly roleName: string;
  /** Credential documents served so far. */
  readonly credentialHits: number;
  /** Session tokens handed out so far. */
  readonly tokenHits: number;
  /** Requests refused for a missing or unknown session token (IMDSv1 attempts). */
  readonly unauthorizedHits: number;
  /** Access key ids served, in order. */
  readonly served: readonly string[];
  close(): Promise<void>;
}

/** Options of {@link startImds}. */
export interface ImdsOptions {
  readonly roleName: string;
  /** Called for every credential request: what to serve now. */
  readonly credentials: () => ImdsCredentials;
}

const TOKEN_PATH = '/latest/api/token';
const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';

class ImdsServer {
  credentialHits = 0;
  tokenHits = 0;
  unauthorizedHits = 0;
  readonly served: string[] = [];
  readonly #tokens = new Map<string, number>();
  readonly #options: ImdsOptions;

  constructor(options: ImdsOptions) {
    this.#options = options;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === TOKEN_PATH) return this.#token(req, res);
    if (!path.startsWith(CREDENTIALS_PATH)) return reply(res, 404, 'Not Found');
    if (req.method !== 'GET') return reply(res, 405, 'Method Not Allowed');
    if (!this.#validToken(req.headers['x-aws-ec2-metadata-token'])) {
      this.unauthorizedHits++;
      return reply(res, 401, 'Unauthorized');
    }
    const role = path.slice(CREDENTIALS_PATH.length);
    if (role === '') return reply(res, 200, this.#options.roleName);
    if (role !== this.#options.roleName) return reply(res, 404, 'Not Found');
    this.#credentials(res);
  }

  #token(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'PUT') return reply(res, 405, 'Method Not Allowed');
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return reply(res, 400, 'Bad Request');
    const token = randomBytes(24).toString('base64url');
    this.#tokens.set(token, Date.now() + ttl * 1000);
    this.tokenHits++;
    res.setHeader('x-aws-ec2-metadata-token-ttl-seconds', String(ttl));
    reply(res, 200, token);
  }

  #validToken(header: string | string[] | undefined): boolean {
    const expires = typeof header === 'string' ? this.#tokens.get(header) : undefined;
    return expires !== undefined && expires > Date.now();
  }

  #credentials(res: ServerResponse): void {
    const c = this.#options.credentials();
    this.credentialHits++;
    this.served.push(c.accessKeyId);
    const body = {
      Code: 'Success',
      LastUpdated: new Date().toISOString(),
      Type: 'AWS-HMAC',
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.token,
      Expiration: c.expiration.toISOString(),
    };
    res.setHeader('content-type', 'text/plain');
    reply(res, 200, JSON.stringify(body));
  }
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.end(body);
}

/** Starts the fake IMDS on a free loopback port. */
export async function startImds(options: ImdsOptions): Promise<FakeImds> {
  const state = new ImdsServer(options);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => state.handle(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('fake IMDS did not get a port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    roleName: options.roleName,
    get credentialHits() {
      return state.credentialHits;
    },
    get tokenHits() {
      return state.tokenHits;
    },
    get unauthorizedHits() {
      return state.unauthorizedHits;
    },
    get served() {
      return state.served;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
