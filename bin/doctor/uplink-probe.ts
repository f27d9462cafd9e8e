import { connect as tcpConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { topics } from '../../hardware/core/contract.ts';
import { IOT_CORE_ALPN, MqttConnector } from '../../gateway/mqtt-uplink.ts';
import { publicBrokerUrl } from '../../gateway/status.ts';
import type { UplinkSettings } from '../../gateway/settings.ts';
import type { Finding } from './report.ts';

/**
 * Reaches the uplink's broker step by step, so a failure names its layer: TCP (host and port), TLS (the
 * broker's certificate, or ours), then MQTT (the CONNACK: user name and password, or not authorised).
 */

const STEP_TIMEOUT_MS = 10_000;
/** CONNACK codes: MQTT 3.1.1 (4, 5, 2) and MQTT 5 (0x86, 0x87, 0x85, 0x8C). */
const BAD_LOGIN = new Set([4, 0x86, 0x8c]);
const NOT_AUTHORISED = new Set([5, 0x87]);
const BAD_CLIENT_ID = new Set([2, 0x85]);
/** Node's codes for a broker certificate we do not trust. */
const UNTRUSTED_SERVER = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/;

export async function probeUplink(uplink: UplinkSettings, thing: string, log: Logger): Promise<Finding> {
  const url = new URL(uplink.url);
  // mqtt.js itself turns mqtt:// into TLS when a client certificate and key are set: so does the probe.
  const tls = url.protocol === 'mqtts:' || (uplink.tls.cert !== undefined && uplink.tls.key !== undefined);
  const host = url.hostname;
  const port = url.port ? Number(url.port) : tls ? 8883 : 1883;
  const where = `${host}:${port}`;
  const shown = publicBrokerUrl(uplink.url);

  const tcp = await step((done) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => done(null, socket));
    socket.once('error', (error) => done(error, socket));
  });
  if (tcp) return { status: 'fail', found: `cannot reach ${where} over TCP (${tcp})`, fix: `is the broker running at ${where}, and is uplink.url right? Check the network (ping ${host}) and a firewall` };

  if (tls) {
    const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
    const handshake = await step((done) => {
      const socket = tlsConnect({
        host,
        port,
        servername: /^[\d.]+$|:/.test(host) ? undefined : host,
        ca: read(uplink.tls.ca),
        cert: read(uplink.tls.cert),
        key: read(uplink.tls.key),
        rejectUnauthorized: uplink.tls.rejectUnauthorized,
        ...(uplink.tls.alpnIotCore ? { ALPNProtocols: [IOT_CORE_ALPN] } : {}),
      });
      // A TLS 1.3 server checks our certificate after the handshake: wait for its verdict a moment.
      socket.once('secureConnect', () => setTimeout(() => done(null, socket), 300));
      socket.once('error', (error) => done(error, socket));
    });
    if (handshake) return tlsFinding(handshake, where, uplink);
  }

  const clientId = uplink.clientId ?? `hedgerow-${thing}`;
  // A second session with the station's client id would throw the running station off the broker;
  // IoT Core accepts only the thing name, so there the station reconnects after doctor's visit.
  const probeId = uplink.profile === 'iot-core' ? clientId : `${clientId}-doctor`.slice(0, 128);
  const connector = new MqttConnector({ settings: uplink, clientId: probeId, log });
  const statusTopic = topics.status(uplink.app, thing);
  try {
    // The will is discarded on doctor's clean disconnect; it is there because an ACL may demand a topic of the station's own.
    const session = await connector.connect({ topic: statusTopic, payload: Buffer.from('{}') });
    const protocol = session.protocol;
    await session.end();
    return { status: 'ok', found: `${shown}: TCP, ${tls ? 'TLS, ' : ''}MQTT CONNACK accepted (${protocol}, client id ${probeId})` };
  } catch (error) {
    return mqttFinding(error as Error & { code?: unknown }, shown, uplink);
  }
}

/** Runs one connect step with a timeout; resolves with the failure's text, or null when it worked. */
function step(start: (done: (error: Error | null, socket: { destroy(): void }) => void) => void): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    let held: { destroy(): void } | undefined;
    const timer = setTimeout(() => finish(`no answer within ${STEP_TIMEOUT_MS / 1000} s`), STEP_TIMEOUT_MS);
    const finish = (result: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      held?.destroy();
      resolve(result);
    };
    start((error, socket) => {
      held = socket;
      finish(error === null ? null : describe(error));
    });
  });
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

function tlsFinding(problem: string, where: string, uplink: UplinkSettings): Finding {
  if (/NOT_YET_VALID|CERT_HAS_EXPIRED/.test(problem)) {
    return { status: 'fail', found: `TLS to ${where}: ${problem}`, fix: 'check the clock (date; timedatectl): a Pi without an RTC starts in 1970, and certificates are not valid then' };
  }
  if (UNTRUSTED_SERVER.test(problem)) {
    return { status: 'fail', found: `TLS to ${where}: the broker's certificate is not trusted (${problem})`, fix: uplink.tls.ca ? `uplink.tls.ca (${uplink.tls.ca}) is not the CA that signed the broker's certificate, or the host name does not match it` : 'set uplink.tls.ca to the CA that signed the broker\'s certificate (AmazonRootCA1.pem for IoT Core)' };
  }
  if (/alert|certificate/i.test(problem)) {
    return {
      status: 'fail',
      found: `TLS to ${where}: the broker refused our client certificate (${problem})`,
      fix: uplink.tls.cert ? `uplink.tls.cert (${uplink.tls.cert}) is not signed by a CA the broker trusts, or is not active/attached (IoT Core)` : 'the broker wants a client certificate: set uplink.tls.cert and uplink.tls.key',
    };
  }
  return {
    status: 'fail',
    found: `TLS to ${where} failed: ${problem}`,
    fix: 'is that the broker\'s TLS port (8883)? With uplink.tls.cert set the uplink speaks TLS even to an mqtt:// URL (mqtt.js does): use mqtts:// and the TLS port',
  };
}

function mqttFinding(error: Error & { code?: unknown }, shown: string, uplink: UplinkSettings): Finding {
  const code = typeof error.code === 'number' ? error.code : null;
  const found = `${shown}: the broker refused the MQTT connection (${error.message}${code === null ? '' : `, code ${code}`})`;
  // mosquitto answers a wrong password with "not authorized" (5, 0x87), not "bad user name or password".
  const login = code !== null && (BAD_LOGIN.has(code) || (NOT_AUTHORISED.has(code) && uplink.username !== undefined));
  if (login) {
    return {
      status: 'fail',
      found: `${found}: bad user name or password, user ${uplink.username ?? '(none)'}`,
      fix: 'set uplink.username and uplink.password to this station\'s broker login (the password given when it was deployed)',
    };
  }
  if (code !== null && NOT_AUTHORISED.has(code)) {
    return uplink.tls.cert === undefined
      ? { status: 'fail', found: `${found}: the broker wants a login`, fix: 'set uplink.username and uplink.password to this station\'s broker login' }
      : { status: 'fail', found: `${found}: not authorised`, fix: 'the broker knows the certificate but refuses it: check the IoT Core policy attached to it (deploy.sh aws), or the broker\'s ACL' };
  }
  if (code !== null && BAD_CLIENT_ID.has(code)) {
    return { status: 'fail', found: `${found}: the client id was refused`, fix: 'set uplink.clientId to what the broker expects (IoT Core: the thing name)' };
  }
  return { status: 'fail', found, fix: 'check uplink.url, uplink.protocolVersion and the broker\'s log' };
}
