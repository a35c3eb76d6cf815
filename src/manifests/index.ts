export { ManifestOptions } from './manifest-options.js';
export { poolManifests, hubModelIds, type ManifestList, type PoolManifestInput } from './pool-manifests.js';
export { InferencePool } from './inference-pool.js';
export type { RoutingConfig } from './routing-config.js';
export { toYamlDocuments } from './yaml-documents.js';
export {
  fillTemplate,
  manifestTemplate,
  templateChunks,
  type ManifestFormat,
  type ManifestTemplate,
} from './manifest-template.js';
export { ManifestCache, type RenderedTemplate, type TemplateKey } from './manifest-cache.js';
