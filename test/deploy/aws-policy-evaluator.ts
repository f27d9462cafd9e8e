/**
 * AWS IoT Core's documented policy semantics, small enough to read, to check deploy/aws/station-policy.json
 * without an AWS account. From the AWS IoT Core Developer Guide:
 * - "AWS IoT Core policy actions" (iot-policy-actions.html): iot:Connect is checked on CONNECT against the
 *   client id, iot:Publish on PUBLISH, iot:RetainPublish as well when the RETAIN flag is set (it needs
 *   iot:Publish too), iot:Subscribe on SUBSCRIBE, iot:Receive on each delivery.
 * - "AWS IoT Core action resources" (iot-action-resources.html): the resource of iot:Connect is
 *   arn:…:client/<client id>, of iot:Publish, iot:RetainPublish and iot:Receive arn:…:topic/<topic name>,
 *   of iot:Subscribe arn:…:topicfilter/<topic filter>.
 * - "Publish/Subscribe policy examples", "Using wildcard characters in MQTT and AWS IoT Core policies"
 *   (pub-sub-policy.html): in a policy `*` is any combination of characters and `?` any single character,
 *   `/` included; MQTT's `+` and `#` are plain characters.
 * - "AWS IoT Core policy variables" and "Thing policy variables" (iot-policy-variables.html,
 *   thing-policy-variables.html): ${iot:Connection.Thing.ThingName} is the registered thing for which the
 *   policy is evaluated, whose name must be the client id; ${iot:Connection.Thing.IsAttached} says whether
 *   the certificate is attached to it; a variable that does not resolve gives access denied. $(*), $(?)
 *   and $($) stand for the literal characters.
 * - "Retained message policy examples" (retained-message-policy-examples.html): a retained Will message
 *   needs iot:Publish and iot:RetainPublish on the will topic.
 * - Evaluation, as in IAM (which IoT policies follow): deny by default, an Allow that applies allows, an
 *   explicit Deny that applies wins over any Allow.
 * Conditions supported: Bool and StringEquals (a missing key fails them). Anything else in a policy is an
 * error here, not silently ignored.
 */

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface Policy {
  Version: string;
  Statement: Statement[];
}

/** What IoT Core knows about a connection when it evaluates: its client id and the registry's view. */
export interface Connection {
  clientId: string;
  /** The things the connection's certificate is attached to. */
  certificateThings: string[];
  /** Every thing in the registry. */
  registry: string[];
}

export type Decision = 'allow' | 'implicit-deny' | 'explicit-deny';

const asList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function variables(connection: Connection): Record<string, string> {
  const vars: Record<string, string> = { 'iot:ClientId': connection.clientId };
  // The thing for which the policy is evaluated is the registered thing named by the client id.
  if (connection.registry.includes(connection.clientId)) {
    vars['iot:Connection.Thing.ThingName'] = connection.clientId;
    vars['iot:Connection.Thing.IsAttached'] = String(connection.certificateThings.includes(connection.clientId));
  }
  return vars;
}

/** A policy string as a RegExp: variables substituted, `*` and `?` wildcards across `/`; undefined when a variable does not resolve. */
function pattern(text: string, vars: Record<string, string>, flags = ''): RegExp | undefined {
  let unresolved = false;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const source = text
    .split(/(\$\{[^}]+\}|\$\([*?$]\)|[*?])/)
    .map((part) => {
      if (part === '*') return '.*';
      if (part === '?') return '.';
      const special = /^\$\(([*?$])\)$/.exec(part);
      if (special) return escape(special[1]!);
      const variable = /^\$\{([^}]+)\}$/.exec(part);
      if (variable) {
        const value = vars[variable[1]!];
        if (value === undefined) unresolved = true;
        return escape(value ?? '');
      }
      return escape(part);
    })
    .join('');
  return unresolved ? undefined : new RegExp(`^${source}$`, flags);
}

function conditionsHold(condition: Statement['Condition'], vars: Record<string, string>): boolean {
  for (const [operator, tests] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(tests)) {
      const actual = vars[key];
      if (actual === undefined) return false;
      if (operator === 'Bool' || operator === 'StringEquals') {
        if (!asList(expected).includes(actual)) return false;
      } else {
        throw new Error(`condition operator ${operator} is not modelled by this evaluator`);
      }
    }
  }
  return true;
}

/** The decision for one action on one resource ARN, for a connection. */
export function evaluate(policy: Policy, action: string, resource: string, connection: Connection): Decision {
  const vars = variables(connection);
  const applies = (statement: Statement) =>
    asList(statement.Action).some((a) => pattern(a, {}, 'i')!.test(action)) &&
    asList(statement.Resource).some((r) => pattern(r, vars)?.test(resource) ?? false) &&
    conditionsHold(statement.Condition, vars);
  const matching = policy.Statement.filter(applies);
  if (matching.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  return matching.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

/** The MQTT operations a station does, each as the checks IoT Core makes for it. */
export class IotCoreAuthorizer {
  constructor(
    private readonly policy: Policy,
    private readonly arnPrefix: string,
  ) {}

  private allowed(action: string, resource: string, connection: Connection): boolean {
    return evaluate(this.policy, action, `${this.arnPrefix}:${resource}`, connection) === 'allow';
  }

  /** CONNECT; a Will message needs its publish (and retain) rights too. */
  connect(connection: Connection, will?: { topic: string; retain: boolean }): boolean {
    return this.allowed('iot:Connect', `client/${connection.clientId}`, connection) && (!will || this.publish(connection, will.topic, will.retain));
  }

  publish(connection: Connection, topic: string, retain = false): boolean {
    return this.allowed('iot:Publish', `topic/${topic}`, connection) && (!retain || this.allowed('iot:RetainPublish', `topic/${topic}`, connection));
  }

  subscribe(connection: Connection, filter: string): boolean {
    return this.allowed('iot:Subscribe', `topicfilter/${filter}`, connection);
  }

  receive(connection: Connection, topic: string): boolean {
    return this.allowed('iot:Receive', `topic/${topic}`, connection);
  }
}
