import { parseSubnetEnv } from '../../../agent/network/flannel';

test('flannel subnet.env becomes a subnet, gateway and MTU', () => {
  const s = parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1410\nFLANNEL_IPMASQ=true\n');
  expect(s).toEqual({ network: '10.244.0.0/16', subnet: '10.244.3.0/24', gateway: '10.244.3.1', mtu: 1410 });
  expect(parseSubnetEnv('FLANNEL_SUBNET=10.1.130.1/25').subnet).toBe('10.1.130.0/25');
  expect(() => parseSubnetEnv('FLANNEL_NETWORK=10.244.0.0/16')).toThrow(/FLANNEL_SUBNET/);
});
