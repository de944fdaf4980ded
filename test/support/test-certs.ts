import forge from 'node-forge';

export interface PemPair {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: PemPair;
  /** Serves 127.0.0.1 and localhost. */
  server: PemPair;
  client: PemPair;
}

/**
 * A throwaway CA with one server and one client certificate, for tests that need mutual TLS
 * on loopback (etcd, the API server). Keys come from Node's native RSA generator through forge.
 */
export function makeTestPki(commonName = 'lotse-test'): TestPki {
  const caKeys = forge.pki.rsa.generateKeyPair(2048);
  const caCert = newCert(caKeys.publicKey, `${commonName}-ca`, `${commonName}-ca`, 1);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());
  const issue = (cn: string, serial: number, server: boolean): PemPair => {
    const keys = forge.pki.rsa.generateKeyPair(2048);
    const cert = newCert(keys.publicKey, cn, `${commonName}-ca`, serial);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      ...(server
        ? [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }]
        : []),
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
  };
  return {
    ca: { cert: forge.pki.certificateToPem(caCert), key: forge.pki.privateKeyToPem(caKeys.privateKey) },
    server: issue(`${commonName}-server`, 2, true),
    client: issue(`${commonName}-client`, 3, false),
  };
}

function newCert(publicKey: forge.pki.PublicKey, cn: string, issuerCn: string, serial: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial.toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: issuerCn }]);
  return cert;
}
