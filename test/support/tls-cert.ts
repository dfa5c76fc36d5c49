/** A throwaway CA and a server certificate for 127.0.0.1 and localhost, so tests can run a frontend with TLS. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Writes ca.pem, server.pem and server-key.pem into dir (created if needed) with openssl. */
export function makeSelfSignedCert(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server-key.pem');
  const certFile = join(dir, 'server.pem');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  const days = ['-days', '30'];
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, ...days, '-subj', '/CN=drover test CA']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  // A leaf with the SAN and serverAuth: Go's and rustls's verifiers reject a bare CN, and rustls also rejects a CA as the leaf.
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, ...days, '-extfile', ext]);
  return { certFile, keyFile, caFile };
}
