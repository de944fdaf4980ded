import { applySchemaDefaults, prune, validateAgainst } from '../../../master/api/custom-resources/structural-schema';
import type { JsonSchema } from '../../../master/api/resources';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        when: { type: 'string', format: 'date-time' },
        note: { type: 'string', nullable: true },
        gone: { type: 'string' },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, protocol: { type: 'string', default: 'TCP' } } },
        },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        choice: { type: 'integer', oneOf: [{ minimum: 10 }, { maximum: 0 }] },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

describe('structural schemas', () => {
  test('pruning drops unknown fields and non-nullable nulls, keeps type meta and preserved trees', () => {
    const obj = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, top: 1, spec: { note: null, gone: null, unknown: { a: 1 }, embedded: { apiVersion: 'v1', kind: 'Pod', anything: true } } };
    expect(prune(schema, obj)).toEqual(['top', 'spec.unknown']);
    expect(obj).toEqual({ apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { note: null, embedded: { apiVersion: 'v1', kind: 'Pod', anything: true } } });
  });

  test('defaults reach into list items', () => {
    const obj = { spec: { ports: [{ name: 'http' }, { name: 'dns', protocol: 'UDP' }] } };
    applySchemaDefaults(schema, obj);
    expect(obj.spec.ports).toEqual([{ name: 'http', protocol: 'TCP' }, { name: 'dns', protocol: 'UDP' }]);
  });

  test('formats, map keys, oneOf and additionalProperties are checked with field paths', () => {
    const causes = validateAgainst(schema, { spec: { when: 'yesterday', ports: [{ name: 'a' }, { name: 'a' }], labels: { ok: 'abc', long: 'abcd' }, choice: 5 } });
    expect(causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
      'spec.ports[1]: Duplicate value: ["a"]',
      'spec.labels.long: Too long: may not be more than 3 bytes',
      'spec.choice: Invalid value: 5: spec.choice in body must validate one and only one schema (oneOf)',
    ]);
    expect(validateAgainst(schema, { spec: { when: '2026-12-03T10:00:00Z', choice: 11, note: null } })).toEqual([]);
  });
});
