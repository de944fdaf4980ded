import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * The TLS a lotse server accepts, as kube-apiserver's defaults: TLS 1.2 or newer, and for 1.2
 * only ECDHE key exchange (forward secrecy) with AEAD ciphers (GCM, ChaCha20-Poly1305). CBC and
 * static-RSA suites such as AES128-SHA are refused; TLS 1.3 suites are all AEAD and forward secret.
 */
export const serverTlsPolicy: Pick<TlsOptions, 'minVersion' | 'honorCipherOrder'> & Pick<SecureContextOptions, 'ciphers'> = {
  minVersion: 'TLSv1.2',
  honorCipherOrder: true,
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
};
