import { Logger } from '@nestjs/common';
import type { OpenAPIV3_1 } from 'openapi-types';
import { findProjectRoot } from '../metadata/metadata-files';
import { readMetadataFiles, validateMetadataSet, type ValidatedSet } from '../metadata/metadata-set';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { OpenApiController } from './openapi.controller';

/** The shipped metadata set, as the engine validates it at start. */
async function shippedSet(): Promise<ValidatedSet> {
  const { sources, problems } = await readMetadataFiles(findProjectRoot());
  const set = await validateMetadataSet(sources);
  expect([...problems, ...set.problems]).toEqual([]);
  return set;
}

function publish(registry: MetadataRegistry, version: number, set: ValidatedSet, tools = set.tools) {
  const bundles = set.modules.map((definition) => ({
    definition,
    layout: set.layouts.get(definition.name),
    rules: set.rules.get(definition.name),
    version,
  }));
  return registry.replace(version, bundles, set.workflows, tools, { email: set.emailTemplates, documents: set.documentTemplates });
}

const enumOf = (document: OpenAPIV3_1.Document, path: string, parameter: string) =>
  (
    document.paths![path]!.parameters!.find((p) => 'name' in p && p.name === parameter) as OpenAPIV3_1.ParameterObject & {
      schema: { enum?: string[] };
    }
  ).schema.enum;

describe(OpenApiController.name, () => {
  // The registry logs each compile.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it('documents the active tools and document templates of each module, rebuilt when the metadata changes', async () => {
    const set = await shippedSet();
    const registry = new MetadataRegistry();
    const controller = new OpenApiController(registry);
    await publish(registry, 1, set);

    const first = controller.document();
    expect(first.info.version).toBe('1');
    expect(enumOf(first, '/api/v1/invoices/{id}/tools/{tool}', 'tool')).toEqual(['credit_invoice', 'print_invoice', 'send_invoice']);
    expect(enumOf(first, '/api/v1/invoices/{id}/documents/{template}', 'template')).toEqual(['invoice']);
    expect(enumOf(first, '/api/v1/accounts/{id}/tools/{tool}', 'tool')).toBeUndefined();
    expect(controller.document()).toBe(first);

    // print_invoice withdrawn: the endpoint no longer names it, nor answers with a PDF itself.
    await publish(
      registry,
      2,
      set,
      set.tools.filter((tool) => tool.name !== 'print_invoice'),
    );
    const second = controller.document();
    expect(second.info.version).toBe('2');
    expect(enumOf(second, '/api/v1/invoices/{id}/tools/{tool}', 'tool')).toEqual(['credit_invoice', 'send_invoice']);
    const ok = second.paths!['/api/v1/invoices/{id}/tools/{tool}']!.post!.responses!['200'] as OpenAPIV3_1.ResponseObject;
    expect(Object.keys(ok.content!)).toEqual(['application/json']);
  });
});
