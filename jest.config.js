/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Real components (podman, etcd, sshd, kubectl) start inside tests; they need room.
  testTimeout: 60000,
  // One suite at a time. The suites drive host-wide things (nftables tables, network namespaces,
  // podman networks, ports) and timing-bound behaviour (failover within 30 s, endpoints within
  // 1 s); two at once on two cores made each other fail in CI: a NodePort rule of one suite reset
  // another's connections, and Chromium dropped navigations whenever a netns appeared. Serial
  // costs about 100 s over two workers and leaves CI well inside its 20 minutes.
  maxWorkers: 1,
  // In one process, a suite's leftovers (a keep-alive socket its stopped peer closed, an exited
  // child not yet reaped) would keep jest from exiting after the last suite; with workers, jest
  // killed them the same way.
  forceExit: true,
};
