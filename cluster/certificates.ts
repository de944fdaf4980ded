import { generateKeyPair, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName: string;
  organization?: string[];
  /** DNS names and IP addresses; each goes into subjectAltName with its right type. */
  sans?: string[];
  serverAuth?: boolean;
  clientAuth?: boolean;
  validDays?: number;
}

/**
 * Keys come from Node's native crypto (RSA 2048 in ~50 ms instead of seconds in pure JS); node-forge
 * builds and signs the X.509 certificates.
 */
type KeyMaterial = { keyPem: string; forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey };

function newKey(): KeyMaterial {
  return keyMaterial(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
}

function keyMaterial(privateKey: KeyObject): KeyMaterial {
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  return { keyPem, forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/**
 * A positive serial of 16 octets, as RFC 5280 asks. The leading octet is kept in 0x40..0x7f: below
 * 0x80 so the DER INTEGER stays positive, and never 0x00, because a leading zero followed by an
 * octet below 0x80 is a non-minimal encoding that OpenSSL 3 rejects ("illegal padding") when it
 * loads the certificate; with a fully random first octet one certificate in ~256 was unusable.
 */
export function certificateSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x40 | (b[0] & 0x3f);
  return b.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
}

export function createCa(commonName: string, validDays = 3650): KeyPair {
  const key = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = certificateSerial();
  validity(cert, validDays);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

export function issueCertificate(ca: KeyPair, req: CertificateRequest): KeyPair {
  return signCertificate(ca, req, newKey());
}

/**
 * The same, with the key made on libuv's thread pool: a master answering many joins at once
 * keeps serving instead of blocking ~50 ms per RSA key.
 */
export async function issueCertificateAsync(ca: KeyPair, req: CertificateRequest): Promise<KeyPair> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return signCertificate(ca, req, keyMaterial(privateKey));
}

function signCertificate(ca: KeyPair, req: CertificateRequest, key: KeyMaterial): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = certificateSerial();
  validity(cert, req.validDays ?? 825);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: req.commonName }];
  for (const o of req.organization ?? []) subject.push({ name: 'organizationName', value: o });
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: req.serverAuth ?? false, clientAuth: req.clientAuth ?? false },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (req.sans && req.sans.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: req.sans.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

/** subjectAltNames of a PEM certificate, to decide whether a serving certificate must be re-issued. */
export function certificateSans(certPem: string): string[] {
  const cert = forge.pki.certificateFromPem(certPem);
  const ext = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | undefined;
  return (ext?.altNames ?? []).map((a) => (a.type === 7 ? String(a.ip) : String(a.value)));
}

export function certificateExpiry(certPem: string): Date {
  return forge.pki.certificateFromPem(certPem).validity.notAfter;
}
