// A throwaway PKI made with openssl for the mTLS tests: a CA, a server certificate for 127.0.0.1
// and localhost, a client certificate, and a second CA with its own client (which must be refused).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherClientCert: string;
  otherClientKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], dir);
}

function makeCert(dir: string, ca: string, name: string, extensions: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    dir,
  );
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  makeCert(dir, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeCert(dir, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  makeCert(dir, 'other-ca', 'other-client', 'extendedKeyUsage=clientAuth\n');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    ca: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherClientCert: at('other-client.crt'),
    otherClientKey: at('other-client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
