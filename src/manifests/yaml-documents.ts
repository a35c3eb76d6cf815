import { Document, Scalar, visit } from 'yaml';
import type { ManifestList } from './pool-manifests.js';

/** YAML 1.1 booleans, which go-yaml v2 (kubectl's sigs.k8s.io/yaml) still reads as such */
const yaml11Bool = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const yamlNull = /^(?:~|null|Null|NULL|)$/;
const specialFloat = /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** go-yaml v2 drops every "_" of a scalar that starts like a number, then tries Go's base-prefixed integers... */
const goInteger = /^[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|[0-9]+)$/;
/** ...then this float syntax (YAML 1.1's floats are a subset) */
const goFloat = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** YAML 1.1 base-60 numbers (12:30) and timestamps: kubectl reads them as strings, other YAML 1.1 readers do not */
const yaml11Sexagesimal = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const yaml11Timestamp = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt \t])/;

/**
 * Whether a YAML 1.1 or 1.2 reader (go-yaml v2, which kubectl uses, included) would take `s`, written as a plain
 * scalar, for something other than this string: a boolean, a number, null, a timestamp or a merge key.
 */
export function readAsNonString(s: string): boolean {
  if (yaml11Bool.test(s) || yamlNull.test(s) || specialFloat.test(s) || s === '<<' || s === '=') return true;
  if (yaml11Sexagesimal.test(s) || yaml11Timestamp.test(s)) return true;
  const digits = s.replaceAll('_', '');
  return goInteger.test(digits) || goFloat.test(digits);
}

/**
 * One object as a YAML document. The `yaml` package writes YAML 1.2, quoting only the strings a 1.2 reader would
 * misread: a pool named `on`, `1_000` or `0b101` would go out plain and come back, in kubectl, as a boolean or a
 * number where Kubernetes wants a string. Every string scalar `readAsNonString` flags is double-quoted as well.
 */
export function toYamlDocument(value: unknown): string {
  const document = new Document(value);
  visit(document, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && readAsNonString(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  // no folding at 80 columns: a multi-line string (routing.json) is always a literal block, whatever its lines' length,
  // so the text of one object does not depend on the length of the values around it (see manifest-template.ts)
  return document.toString({ lineWidth: 0 });
}

/** One YAML document per object, as `kubectl apply -f` reads them. */
export function toYamlDocuments(list: ManifestList): string {
  return list.items.map((item) => toYamlDocument(item)).join('---\n');
}
