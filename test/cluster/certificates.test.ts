import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { certificateExpiry, certificateSans, certificateSerial, createCa, issueCertificate, issueCertificateAsync } from '../../cluster/certificates';

describe('cluster certificates', () => {
  test('every serial is a minimal, positive 16-octet DER integer', () => {
    // With a random first octet, 1 in 128 serials began with 0x00 and OpenSSL refused half of those.
    for (let i = 0; i < 5000; i++) {
      const first = parseInt(certificateSerial().slice(0, 2), 16);
      expect(first).toBeGreaterThanOrEqual(0x40);
      expect(first).toBeLessThan(0x80);
    }
  });

  test('issued certificates load in OpenSSL, chain to the CA and carry their names', () => {
    const ca = createCa('test-ca');
    const pair = issueCertificate(ca, { commonName: 'server', sans: ['example.test', '10.0.0.1'], serverAuth: true });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.serialNumber).toHaveLength(32);
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
    expect(() => createSecureContext({ cert: pair.certPem, key: pair.keyPem })).not.toThrow();
    expect(certificateSans(pair.certPem).sort()).toEqual(['10.0.0.1', 'example.test']);
  });
});

describe('EC certificates', () => {
  test('an EC P-256 certificate signed by the RSA CA loads in OpenSSL, chains, serves TLS and carries its names', async () => {
    const ca = createCa('test-ca');
    const started = process.hrtime.bigint();
    const pair = await issueCertificateAsync(ca, { commonName: 'system:node:n1', organization: ['system:nodes'], sans: ['n1', '127.0.0.1'], serverAuth: true, keyType: 'ec' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const cert = new X509Certificate(pair.certPem);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
    expect(cert.subject).toContain('CN=system:node:n1');
    expect(cert.subject).toContain('O=system:nodes');
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(certificateSans(pair.certPem).sort()).toEqual(['127.0.0.1', 'n1']);
    expect(certificateExpiry(pair.certPem).getTime()).toBeGreaterThan(Date.now() + 800 * 86_400_000);
    expect(() => createSecureContext({ cert: pair.certPem, key: pair.keyPem })).not.toThrow();
    // RSA keys took 50–450 ms; the EC certificate must cost a few milliseconds at most.
    expect(ms).toBeLessThan(50);
  });
});
