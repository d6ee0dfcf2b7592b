// Validates Kubernetes objects against Kubernetes' own OpenAPI schemas (as
// the kubernetes-models packages compile them): types, required fields,
// enums and formats.
// Usage: node validate.mjs OBJECTS.json   (a JSON array of {file, object})
import { readFileSync } from "node:fs";

const modules = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

let failed = 0;
const items = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const { file, object } of items) {
  const where = `${file}: ${object.kind} ${object.metadata?.name}`;
  const module = modules[object.apiVersion];
  if (!module) {
    console.log(`FAIL ${where}: no schema for apiVersion ${object.apiVersion}`);
    failed++;
    continue;
  }
  const Kind = (await import(module))[object.kind];
  if (!Kind) {
    console.log(`FAIL ${where}: ${object.apiVersion} has no kind ${object.kind}`);
    failed++;
    continue;
  }
  try {
    new Kind(object).validate();
  } catch (e) {
    console.log(`FAIL ${where}: ${e.message}`);
    failed++;
  }
}
console.log(`schemas: ${items.length - failed} of ${items.length} objects valid`);
process.exit(failed ? 1 : 0);
