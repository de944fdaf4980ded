import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { certificateSans, certificateSerial, createCa, issueCertificate } from '../../cluster/certificates';

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
