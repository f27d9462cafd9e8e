import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';

/**
 * The TLS options of an MQTT connection, one shape for the station's uplink (`uplink.tls`) and the
 * cloud engine's subscription (`cloud.mqtt.tls`). Files are read and parsed when the config is read,
 * so a missing file, a swapped certificate and key, or a key of another certificate is a config error
 * naming the key and the file, not a TLS error minutes later.
 */

/** ALPN protocol AWS IoT Core needs for MQTT with a client certificate on port 443. */
export const IOT_CORE_ALPN = 'x-amzn-mqtt-ca';

/** A file the process must be able to read, checked now so the error names the key and the file. */
function checkReadable(path: string, ctx: z.RefinementCtx): boolean {
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
    accessSync(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist: check the path (relative paths start from the working directory)'
        : code === 'EISDIR'
          ? 'is not a file'
          : `cannot be read (${code ?? 'error'}): check its owner and permissions (chmod 600, owned by the user running hedgerow)`;
    ctx.addIssue({ code: 'custom', message: `file ${path} ${reason}` });
    return false;
  }
  return true;
}

/** A readable PEM file that Node can parse as `kind`, so a swapped cert and key are caught at start. */
function pemFile(kind: 'certificate' | 'private key') {
  return z.string().superRefine((path, ctx) => {
    if (!checkReadable(path, ctx)) return;
    try {
      const pem = readFileSync(path);
      if (kind === 'certificate') new X509Certificate(pem);
      else createPrivateKey(pem);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `file ${path} is not a PEM ${kind} (${(error as Error).message})` });
    }
  });
}

/** Whether the key is the certificate's own; undefined when either file is unreadable (already reported). */
function keyMatches(certPath: string, keyPath: string): boolean | undefined {
  try {
    return new X509Certificate(readFileSync(certPath)).checkPrivateKey(createPrivateKey(readFileSync(keyPath)));
  } catch {
    return undefined;
  }
}

export const tlsSettings = z
  .object({
    /** CA bundle that signed the broker's certificate (AmazonRootCA1.pem for IoT Core). Default: Node's roots. */
    ca: pemFile('certificate').optional(),
    /** Client certificate (PEM) for mutual TLS. */
    cert: pemFile('certificate').optional(),
    /** Client private key (PEM) for mutual TLS: the certificate's own. */
    key: pemFile('private key').optional(),
    /** Send ALPN x-amzn-mqtt-ca, which IoT Core needs for MQTT over mTLS on port 443. Default false. */
    alpnIotCore: z.boolean().default(false),
    /** Check the broker's certificate. Default true; turn off only against a test broker. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [tls.cert === undefined ? 'cert' : 'key'], message: 'mutual TLS needs both tls.cert and tls.key' });
      return;
    }
    if (tls.cert !== undefined && tls.key !== undefined && keyMatches(tls.cert, tls.key) === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `the private key ${tls.key} is not the key of the certificate ${tls.cert}: use the key file that was made with that certificate`,
      });
    }
  });

export type TlsSettings = z.output<typeof tlsSettings>;

/** mqtt.js's TLS options for these settings. Files are read once: a certificate rotated on disk is picked up at the next start. */
export function mqttTlsOptions(tls: TlsSettings): Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'ALPNProtocols'> {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
  return {
    ca: read(tls.ca),
    cert: read(tls.cert),
    key: read(tls.key),
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.alpnIotCore ? { ALPNProtocols: [IOT_CORE_ALPN] } : {}),
  };
}
