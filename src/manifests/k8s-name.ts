import { createHash } from 'node:crypto';

/**
 * A DNS-1035 label (a Service name: lowercase letters, digits and "-", starting with a letter, at most
 * 63 characters) made of `parts`. Pool names may hold "." and "_", which Kubernetes names may not: when
 * the name had to change, a short hash of the original keeps two pools from colliding.
 */
export function k8sName(...parts: (string | number)[]): string {
  const wanted = parts.join('-');
  const clean = wanted
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (clean === wanted && clean.length <= 63 && /^[a-z]/.test(clean)) return clean;
  const hash = createHash('sha256').update(wanted).digest('hex').slice(0, 6);
  const stem = (/^[a-z]/.test(clean) ? clean : `x-${clean}`).slice(0, 63 - hash.length - 1).replace(/-$/, '');
  return `${stem}-${hash}`;
}
