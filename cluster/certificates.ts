import { createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
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
  /**
   * The certificate's key: `rsa` (2048 bits, the default, for peers that want RSA) or `ec`
   * (P-256: made in well under a millisecond where RSA takes 50–450 ms, which is what a join
   * costs).
   */
  keyType?: 'rsa' | 'ec';
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
  if (req.keyType === 'ec') return issueEcCertificate(ca, req);
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return signCertificate(ca, req, keyMaterial(privateKey));
}

function issueEcCertificate(ca: KeyPair, req: CertificateRequest): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { certPem: certificateForKey(ca, req, publicKey), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * A certificate for a key someone else holds (a joining node sends its public key, as a kubelet
 * sends a CSR): RSA (2048 bits or more) or EC P-256. Throws with the reason for any other key.
 */
export function certificateForPublicKey(ca: KeyPair, req: CertificateRequest, publicKeyPem: string): string {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (err) {
    throw new Error(`the public key is not a PEM SubjectPublicKeyInfo: ${(err as Error).message}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) {
    const forgeKey = forge.pki.publicKeyFromPem(key.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey;
    const cert = certificateTemplate(ca, req, forgeKey, true);
    cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return certificateForKey(ca, req, key);
  throw new Error(`a ${key.asymmetricKeyType} key${details.modulusLength ? ` of ${details.modulusLength} bits` : ''}${details.namedCurve ? ` on ${details.namedCurve}` : ''} is not accepted: send an RSA key of at least 2048 bits or an EC P-256 key`);
}

/**
 * node-forge encodes and signs only RSA keys, so an EC certificate is built as forge's
 * to-be-signed structure with the EC key's SubjectPublicKeyInfo put in its place, signed by the
 * (RSA) CA key with Node's crypto, and wrapped as RFC 5280 describes.
 */
function certificateForKey(ca: KeyPair, req: CertificateRequest, publicKey: KeyObject): string {
  const cert = certificateTemplate(ca, req, forge.pki.certificateFromPem(ca.certPem).publicKey as forge.pki.rsa.PublicKey, false);
  const a = forge.asn1;
  const algorithm = a.create(a.Class.UNIVERSAL, a.Type.SEQUENCE, true, [
    a.create(a.Class.UNIVERSAL, a.Type.OID, false, a.oidToDer(forge.pki.oids.sha256WithRSAEncryption).getBytes()),
    a.create(a.Class.UNIVERSAL, a.Type.NULL, false, ''),
  ]);
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  // TBSCertificate: version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions.
  (tbs.value as forge.asn1.Asn1[])[6] = a.fromDer(publicKey.export({ type: 'spki', format: 'der' }).toString('binary'));
  const tbsDer = Buffer.from(a.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, ca.keyPem);
  const der = a.toDer(a.create(a.Class.UNIVERSAL, a.Type.SEQUENCE, true, [tbs, algorithm, a.create(a.Class.UNIVERSAL, a.Type.BITSTRING, false, `\0${signature.toString('binary')}`)])).getBytes();
  const body = Buffer.from(der, 'binary').toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

function signCertificate(ca: KeyPair, req: CertificateRequest, key: KeyMaterial): KeyPair {
  const cert = certificateTemplate(ca, req, key.publicKey, true);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

/** The certificate's fields and extensions, unsigned; an RSA key may encipher keys, an EC key only signs. */
function certificateTemplate(ca: KeyPair, req: CertificateRequest, publicKey: forge.pki.rsa.PublicKey, rsa: boolean): forge.pki.Certificate {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = certificateSerial();
  validity(cert, req.validDays ?? 825);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: req.commonName }];
  for (const o of req.organization ?? []) subject.push({ name: 'organizationName', value: o });
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: rsa, critical: true },
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
  return cert;
}

/** subjectAltNames of a PEM certificate (RSA or EC), to decide whether a serving certificate must be re-issued. */
export function certificateSans(certPem: string): string[] {
  const sans = new X509Certificate(certPem).subjectAltName ?? '';
  return sans
    .split(', ')
    .filter(Boolean)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
}

export function certificateExpiry(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
