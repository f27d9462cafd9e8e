import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A stand-in for the AWS IoT control plane, for `aws --endpoint-url`: the operations deploy/aws.sh calls,
 * routed by botocore's own service model (its iot service-2.json: method and requestUri per operation),
 * each request recorded (operation, method, path, query, the x-amzn-principal header, body), and each
 * answer checked against the operation's output shape before it is sent, so the CLI parses what AWS
 * would send. An operation it does not implement gets an explicit 501, never a fall-through.
 */

const MODEL_DIR = '/usr/lib/python3/dist-packages/botocore/data/iot';
export const ACCOUNT = '123456789012';

interface Member {
  shape: string;
  location?: 'uri' | 'querystring' | 'header';
  locationName?: string;
}
interface Shape {
  type: string;
  members?: Record<string, Member>;
  required?: string[];
  member?: { shape: string };
  value?: { shape: string };
}
interface Operation {
  http: { method: string; requestUri: string };
  input?: { shape: string };
  output?: { shape: string };
}
interface Model {
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

export function loadIotModel(): Model {
  const version = readdirSync(MODEL_DIR).sort().at(-1)!;
  return JSON.parse(readFileSync(join(MODEL_DIR, version, 'service-2.json'), 'utf8')) as Model;
}

/** Problems of `value` against shape `name` (unknown keys, missing required members, wrong types): [] when it fits. */
export function shapeProblems(model: Model, name: string, value: unknown, path = name): string[] {
  const shape = model.shapes[name];
  if (!shape) return [`${path}: no shape ${name} in the model`];
  switch (shape.type) {
    case 'structure': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
      const record = value as Record<string, unknown>;
      const members = shape.members ?? {};
      const problems = (shape.required ?? []).filter((key) => !(key in record)).map((key) => `${path}.${key}: required`);
      for (const [key, item] of Object.entries(record)) {
        const member = members[key];
        if (!member) problems.push(`${path}.${key}: not a member of ${name}`);
        else problems.push(...shapeProblems(model, member.shape, item, `${path}.${key}`));
      }
      return problems;
    }
    case 'list':
      return Array.isArray(value) ? value.flatMap((item, i) => shapeProblems(model, shape.member!.shape, item, `${path}[${i}]`)) : [`${path}: expected a list`];
    case 'map':
      return value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([key, item]) => shapeProblems(model, shape.value!.shape, item, `${path}.${key}`))
        : [`${path}: expected a map`];
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: expected a string`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
    case 'integer':
    case 'long':
    case 'timestamp':
      return Number.isInteger(value) ? [] : [`${path}: expected a whole number`];
    default:
      return [`${path}: shape type ${shape.type} not checked here`];
  }
}

export interface RecordedRequest {
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  principal: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

interface State {
  things: Map<string, { thingId: string }>;
  certificates: Map<string, { status: string; pem: string }>;
  policies: Map<string, { document: string; version: number }>;
  attachedPolicies: Set<string>;
  thingPrincipals: Set<string>;
}

type Answer = { status: number; body?: unknown; error?: string };
type Handler = (params: Record<string, string>, request: RecordedRequest) => Answer;

const notFound = (what: string): Answer => ({ status: 404, error: 'ResourceNotFoundException', body: { message: `${what} not found` } });

export class FakeIot {
  readonly requests: RecordedRequest[] = [];
  /** Output-shape problems of answers sent (empty when every answer fits the model). */
  readonly answerProblems: string[] = [];
  readonly state: State = { things: new Map(), certificates: new Map(), policies: new Map(), attachedPolicies: new Set(), thingPrincipals: new Set() };
  /** Operations that fail once, the next time they are called, with an error the CLI does not retry. */
  readonly failOnce = new Set<string>();
  readonly region = 'eu-west-1';
  readonly endpointAddress = 'a1b2c3example-ats.iot.eu-west-1.amazonaws.com';
  private readonly model = loadIotModel();
  private readonly routes: { operation: string; method: string; pattern: RegExp; names: string[] }[];
  private server: Server | undefined;
  url = '';

  private readonly arn = (type: string, name: string) => `arn:aws:iot:${this.region}:${ACCOUNT}:${type}/${name}`;

  private readonly handlers: Record<string, Handler> = {
    DescribeThing: ({ thingName }) => {
      const thing = this.state.things.get(thingName!);
      if (!thing) return notFound(`thing ${thingName}`);
      return { status: 200, body: { thingName, thingId: thing.thingId, thingArn: this.arn('thing', thingName!), attributes: {}, version: 1 } };
    },
    CreateThing: ({ thingName }) => {
      const thingId = `id-${thingName}`;
      this.state.things.set(thingName!, { thingId });
      return { status: 200, body: { thingName, thingArn: this.arn('thing', thingName!), thingId } };
    },
    CreateKeysAndCertificate: (_params, request) => {
      const { certificatePem, privateKey, publicKey } = makeCertificate();
      const certificateId = `c${String(this.state.certificates.size + 1).padStart(63, '0')}`;
      this.state.certificates.set(certificateId, { status: request.query.setAsActive === 'true' ? 'ACTIVE' : 'INACTIVE', pem: certificatePem });
      return { status: 200, body: { certificateArn: this.arn('cert', certificateId), certificateId, certificatePem, keyPair: { PublicKey: publicKey, PrivateKey: privateKey } } };
    },
    DescribeCertificate: ({ certificateId }) => {
      const cert = this.state.certificates.get(certificateId!);
      if (!cert) return notFound(`certificate ${certificateId}`);
      const description = { certificateArn: this.arn('cert', certificateId!), certificateId, status: cert.status, certificatePem: cert.pem, ownedBy: ACCOUNT, creationDate: 1_800_000_000 };
      return { status: 200, body: { certificateDescription: description } };
    },
    GetPolicy: ({ policyName }) => {
      const policy = this.state.policies.get(policyName!);
      if (!policy) return notFound(`policy ${policyName}`);
      return { status: 200, body: { policyName, policyArn: this.arn('policy', policyName!), policyDocument: policy.document, defaultVersionId: String(policy.version) } };
    },
    CreatePolicy: ({ policyName }, request) => {
      const document = request.body.policyDocument as string;
      this.state.policies.set(policyName!, { document, version: 1 });
      return { status: 200, body: { policyName, policyArn: this.arn('policy', policyName!), policyDocument: document, policyVersionId: '1' } };
    },
    CreatePolicyVersion: ({ policyName }, request) => {
      const policy = this.state.policies.get(policyName!);
      if (!policy) return notFound(`policy ${policyName}`);
      policy.version += 1;
      if (request.query.setAsDefault === 'true') policy.document = request.body.policyDocument as string;
      const body = { policyArn: this.arn('policy', policyName!), policyDocument: request.body.policyDocument, policyVersionId: String(policy.version), isDefaultVersion: request.query.setAsDefault === 'true' };
      return { status: 200, body };
    },
    AttachPolicy: ({ policyName }, request) => {
      this.state.attachedPolicies.add(`${policyName} -> ${String(request.body.target)}`);
      return { status: 200 };
    },
    AttachThingPrincipal: ({ thingName }, request) => {
      this.state.thingPrincipals.add(`${thingName} -> ${request.principal}`);
      return { status: 200, body: {} };
    },
    DescribeEndpoint: (_params, request) => {
      if (request.query.endpointType !== 'iot:Data-ATS') return { status: 400, error: 'InvalidRequestException', body: { message: 'expected iot:Data-ATS' } };
      return { status: 200, body: { endpointAddress: this.endpointAddress } };
    },
  };

  constructor() {
    this.routes = Object.keys(this.handlers).map((operation) => {
      const { method, requestUri } = this.model.operations[operation]!.http;
      const names: string[] = [];
      const source = requestUri.split('?')[0]!.replace(/\{(\w+)\+?\}/g, (_m, name: string) => (names.push(name), '([^/]+)'));
      return { operation, method, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** The request members the model locates in the URI, query and headers, by their member names. */
  private params(operation: string, names: string[], values: string[]): Record<string, string> {
    const params: Record<string, string> = {};
    names.forEach((name, i) => (params[name] = decodeURIComponent(values[i]!)));
    const input = this.model.shapes[this.model.operations[operation]!.input?.shape ?? '']?.members ?? {};
    for (const [member, spec] of Object.entries(input)) {
      if (spec.location === 'uri' && spec.locationName && params[spec.locationName] !== undefined) params[member] = params[spec.locationName]!;
    }
    return params;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  operations(): string[] {
    return this.requests.map((r) => r.operation);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const text = Buffer.concat(chunks).toString('utf8');
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    const send = (status: number, body: unknown, error?: string) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(error ? { 'x-amzn-ErrorType': error } : {}) });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (!route) {
      send(501, { message: `${req.method} ${url.pathname}: not implemented by the stand-in` }, 'NotImplementedException');
      return;
    }
    const request: RecordedRequest = {
      operation: route.operation,
      method: req.method!,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      principal: req.headers['x-amzn-principal'] as string | undefined,
      authorization: req.headers.authorization,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
    this.requests.push(request);
    if (this.failOnce.delete(route.operation)) {
      send(400, { message: 'stand-in failure' }, 'InvalidRequestException');
      return;
    }
    const values = route.pattern.exec(url.pathname)!.slice(1);
    const answer = this.handlers[route.operation]!(this.params(route.operation, route.names, values), request);
    const output = this.model.operations[route.operation]!.output?.shape;
    if (!answer.error && answer.body !== undefined) {
      if (output) this.answerProblems.push(...shapeProblems(this.model, output, answer.body));
      else this.answerProblems.push(`${route.operation} has no output shape, but the stand-in sent a body`);
    }
    send(answer.status, answer.body, answer.error);
  }
}

/** A real key pair and self-signed certificate (openssl), so the settings schema's PEM checks see real ones. */
function makeCertificate(): { certificatePem: string; privateKey: string; publicKey: string } {
  const made = spawnSync(
    'sh',
    ['-c', 'set -e; d=$(mktemp -d); cd "$d"; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=AWS-IoT-stand-in -days 2 -keyout k.pem -out c.pem 2>/dev/null; openssl pkey -in k.pem -pubout -out p.pem; cat c.pem; echo ===; cat k.pem; echo ===; cat p.pem; rm -rf "$d"'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const [certificatePem, privateKey, publicKey] = made.stdout.split('===\n');
  if (made.status !== 0 || !publicKey) throw new Error(`openssl failed: ${made.stderr}`);
  return { certificatePem: certificatePem!, privateKey: privateKey!, publicKey };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Env for the aws CLI: fake credentials, no config files, no instance metadata lookups. */
export function awsEnv(home: string, credentials = true): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  if (credentials) Object.assign(env, { AWS_ACCESS_KEY_ID: 'AKIDSTANDIN', AWS_SECRET_ACCESS_KEY: 'stand-in-secret' });
  return env;
}

/** `bash deploy.sh aws ARGS` with a hard kill timer (the aws CLI must not hang a test). */
export function deployAws(args: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [join(process.cwd(), 'deploy.sh'), 'aws', ...args], { env, cwd, timeout: 300_000, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
