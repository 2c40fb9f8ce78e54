// Validates Kubernetes manifests against the Kubernetes OpenAPI schemas shipped in kubernetes-models (offline).
// Usage: node k8s-manifest-check.mjs <folder>   Prints [{"file":…,"kind":…,"name":…,"errors":[…]}] for every document.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const folder = process.argv[2];
const results = [];
for (const file of readdirSync(folder).filter(f => f.endsWith('.yaml')).sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(folder, file), 'utf8'))) {
    const errors = doc.errors.map(e => e.message);
    const resource = doc.toJS();
    if (!resource) continue;
    const { apiVersion, kind } = resource;
    if (!apiVersion || !kind) {
      results.push({ file, kind, name: null, errors: [...errors, 'apiVersion and kind are required'] });
      continue;
    }
    if (kind === 'Kustomization') {
      const missing = (resource.resources ?? []).filter(r => !readdirSync(folder).includes(r));
      results.push({ file, kind, name: null, errors: [...errors, ...missing.map(r => `resource ${r} does not exist`)], resources: resource.resources ?? [] });
      continue;
    }
    let Model;
    try {
      Model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
    } catch {
      results.push({ file, kind, name: resource.metadata?.name ?? null, errors: [...errors, `unknown apiVersion/kind ${apiVersion}/${kind}`] });
      continue;
    }
    try {
      new Model(resource).validate();
    } catch (e) {
      errors.push(String(e.message ?? e));
    }
    results.push({ file, kind, name: resource.metadata?.name ?? null, errors });
  }
}
console.log(JSON.stringify(results));
