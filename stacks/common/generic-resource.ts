import { TerraformProvider, TerraformResource, type TerraformMetaArguments } from 'cdktf';
import type { Construct } from 'constructs';

/** A provider lotse uses without a generated cdktf binding: registry source and pinned version. */
export interface ProviderIdentity {
  readonly source: string;
  readonly name: string;
  readonly versionConstraint: string;
}

/** Terraform attributes exactly as the provider's schema spells them (snake_case). */
export type TerraformAttributes = Record<string, unknown>;

/**
 * A resource of a provider that has no prebuilt binding (scaleway, local). Subclasses give typed
 * props and getters; this class only carries the attribute map into the synthesized JSON.
 */
export abstract class GenericResource extends TerraformResource {
  private readonly attributes: TerraformAttributes;

  protected constructor(scope: Construct, id: string, provider: ProviderIdentity, type: string, attributes: TerraformAttributes, meta: TerraformMetaArguments = {}) {
    super(scope, id, {
      terraformResourceType: type,
      terraformGeneratorMetadata: { providerName: provider.name, providerVersionConstraint: provider.versionConstraint },
      ...meta,
    });
    this.attributes = attributes;
  }

  get id(): string {
    return this.getStringAttribute('id');
  }

  protected override synthesizeAttributes(): { [name: string]: unknown } {
    return Object.fromEntries(Object.entries(this.attributes).filter(([, v]) => v !== undefined));
  }
}

/** The provider block of such a provider; adds it to required_providers with the pinned version. */
export class GenericProvider extends TerraformProvider {
  private readonly attributes: TerraformAttributes;

  constructor(scope: Construct, id: string, provider: ProviderIdentity, attributes: TerraformAttributes = {}) {
    super(scope, id, {
      terraformResourceType: provider.name,
      terraformGeneratorMetadata: { providerName: provider.name, providerVersionConstraint: provider.versionConstraint },
      terraformProviderSource: provider.source,
    });
    this.attributes = attributes;
  }

  protected override synthesizeAttributes(): { [name: string]: unknown } {
    return Object.fromEntries(Object.entries(this.attributes).filter(([, v]) => v !== undefined));
  }
}
