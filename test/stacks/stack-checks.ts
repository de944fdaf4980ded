// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into scope.
import 'cdktf/lib/testing/adapters/jest';
import { IGNITION_SIZE_LIMIT } from '../../stacks/ignition/builder';
import { ignitionValidate, ignitionsIn, secretFindings } from './helpers';

export interface SynthesizedStack {
  readonly text: string;
  readonly json: {
    resource: Record<string, Record<string, Record<string, unknown>>>;
    output?: Record<string, { value: unknown }>;
    terraform: { required_providers: Record<string, { source: string; version: string }> };
    provider?: Record<string, unknown[]>;
  };
}

export function parsed(text: string): SynthesizedStack {
  return { text, json: JSON.parse(text) as SynthesizedStack['json'] };
}

/** Resources of one type, by construct id. */
export function resources(stack: SynthesizedStack, type: string): Array<Record<string, unknown>> {
  return Object.values(stack.json.resource[type] ?? {});
}

/** What every stack must satisfy: valid, small, secret-free Ignition per machine. */
export function expectIgnitionsSound(stack: SynthesizedStack, machines: number): void {
  const ignitions = ignitionsIn(stack.text);
  expect(ignitions).toHaveLength(machines);
  for (const { where, text } of ignitions) {
    expect({ where, problems: ignitionValidate(text) }).toEqual({ where, problems: '' });
    expect(Buffer.byteLength(text)).toBeLessThan(IGNITION_SIZE_LIMIT);
  }
  expect(secretFindings(stack.text)).toEqual([]);
}

export function expectClusterOutputs(stack: SynthesizedStack): void {
  expect(Object.keys(stack.json.output ?? {}).sort()).toEqual(['clusterName', 'clusterNetwork', 'hosts', 'masterAddresses', 'sshUser', 'store', 'workerAddresses']);
  expect(stack.json.output?.clusterNetwork.value).toEqual({ podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', dnsAddress: '169.254.20.10', clusterDomain: 'cluster.local' });
  expect(stack.json.output?.sshUser.value).toBe('core');
}

/** The bootstrap resource: terraform_data running `lotse bootstrap --outputs` after the machines. */
export function expectBootstrap(stack: SynthesizedStack, machineType: string, machines: number): void {
  const runs = resources(stack, 'terraform_data');
  expect(runs).toHaveLength(1);
  const run = runs[0] as { depends_on: string[]; provisioner: Array<{ 'local-exec': { command: string; environment?: Record<string, string>; when?: string } }> };
  expect(run.depends_on.filter((d) => d.startsWith(`${machineType}.`))).toHaveLength(machines);
  const exec = run.provisioner[0]['local-exec'];
  expect(exec.command).toMatch(/printf '%s' "\$LOTSE_OUTPUTS" > lotse-outputs\.json && lotse bootstrap --outputs lotse-outputs\.json$/);
  expect(exec.environment?.LOTSE_OUTPUTS).toMatch(/^\$\{jsonencode\(\{"clusterName" = "lotse".*"hosts" = \[/);
  expect(run.provisioner[1]['local-exec']).toEqual({ when: 'destroy', command: 'rm -f lotse-outputs.json' });
}
