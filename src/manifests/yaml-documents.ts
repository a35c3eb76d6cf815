import { stringify } from 'yaml';
import type { ManifestList } from './pool-manifests.js';

/** One YAML document per object, as `kubectl apply -f` reads them. */
export function toYamlDocuments(list: ManifestList): string {
  return list.items.map((item) => stringify(item)).join('---\n');
}
