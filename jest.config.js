/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Real components (podman, etcd, sshd, kubectl) start inside tests; they need room.
  testTimeout: 60000,
  // Two cores: more workers only fight over them and slow the real peers down.
  maxWorkers: 2,
};
