/**
 * What a failed connection to the engine's broker means, in words an operator can act on: the
 * TLS layer (which side's certificate is not trusted) or the broker's CONNACK (login, policy). mqtt.js
 * hands over OpenSSL's and Node's codes; these name the setting to look at.
 */

/** CONNACK codes: MQTT 3.1.1 (4, 5, 2) and MQTT 5 (0x86, 0x87, 0x85, 0x8C). */
const BAD_LOGIN = new Set([4, 0x86, 0x8c]);
const NOT_AUTHORISED = new Set([5, 0x87]);
const BAD_CLIENT_ID = new Set([2, 0x85]);

/** `prefix`: where the settings live, e.g. `cloud.mqtt`. */
export function explainMqttError(error: Error, prefix: string): string {
  const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
  const text = typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  if (typeof code === 'number') {
    if (BAD_LOGIN.has(code)) return `the broker refused the login (${text}): check ${prefix}.username and ${prefix}.password`;
    if (NOT_AUTHORISED.has(code)) {
      return `the broker refused the connection as not authorised (${text}): its ACL or IoT Core policy must allow iot:Connect for client id ${prefix}.clientId (deploy/aws/engine-policy.json)`;
    }
    if (BAD_CLIENT_ID.has(code)) return `the broker refused the client id (${text}): set ${prefix}.clientId to one it accepts`;
    return `the broker refused the connection (${text})`;
  }
  const problem = `${typeof code === 'string' ? code : ''} ${error.message}`;
  if (/CERT_HAS_EXPIRED|NOT_YET_VALID/.test(problem)) {
    return `TLS failed (${text}): a certificate is expired or not yet valid; check this machine's clock and the dates of ${prefix}.tls.cert and the broker's certificate`;
  }
  if (/ALTNAME/.test(problem)) return `TLS failed (${text}): the broker's certificate does not name the host in ${prefix}.url; use the host name it was issued for`;
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(problem)) {
    return `TLS failed (${text}): the engine does not trust the broker's certificate; set ${prefix}.tls.ca to the CA that signed it (AmazonRootCA1.pem for IoT Core)`;
  }
  if (/CERTIFICATE_REQUIRED|alert certificate required/i.test(problem)) {
    return `TLS failed (${text}): the broker wants a client certificate; set ${prefix}.tls.cert and ${prefix}.tls.key`;
  }
  if (/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|unknown ca|bad certificate|certificate unknown|alert/i.test(problem)) {
    return (
      `TLS failed (${text}): the broker refused the engine's client certificate (${prefix}.tls.cert): ` +
      'it is not signed by a CA the broker trusts (mosquitto: cafile; IoT Core: not registered, inactive, or of another account)'
    );
  }
  if (/ECONNREFUSED/.test(problem)) return `nothing listens at ${prefix}.url (${text}): is the broker running, and is the port right?`;
  if (/ECONNRESET|EPIPE/.test(problem)) {
    return `the broker closed the connection (${text}): if it wants TLS, use mqtts:// and set ${prefix}.tls; if it checks client certificates, check ${prefix}.tls.cert`;
  }
  return text;
}
