// validate_k8s.js RENDERED.yaml RESILIENCE.yaml - every object kubectl
// kustomize rendered validates against the Kubernetes schemas
// (kubernetes-models), then the shape the deployment relies on: HPA 3..10,
// probes, grace period, PDB, NetworkPolicies, secrets only from the generator.
// Prints TAP lines; exit 1 on any failure.
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

const docs = yaml.loadAll(fs.readFileSync(process.argv[2], 'utf8')).filter(Boolean);
const resilience = fs.readFileSync(process.argv[3], 'utf8');
let n = 0, failed = 0;
function ok(cond, desc) { n++; if (!cond) failed++; console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc}`); }

const models = {
  'v1/Namespace': ['kubernetes-models/v1', 'Namespace'],
  'v1/Service': ['kubernetes-models/v1', 'Service'],
  'v1/Secret': ['kubernetes-models/v1', 'Secret'],
  'v1/ConfigMap': ['kubernetes-models/v1', 'ConfigMap'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1', 'Deployment'],
  'apps/v1/StatefulSet': ['kubernetes-models/apps/v1', 'StatefulSet'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2', 'HorizontalPodAutoscaler'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1', 'PodDisruptionBudget'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1', 'NetworkPolicy'],
  'networking.k8s.io/v1/Ingress': ['kubernetes-models/networking.k8s.io/v1', 'Ingress'],
};
for (const d of docs) {
  const key = `${d.apiVersion}/${d.kind}`;
  const m = models[key];
  if (!m) { ok(false, `${key} ${d.metadata.name}: no schema known to this test`); continue; }
  const Model = require(m[0])[m[1]];
  let err = null;
  try { new Model(d).validate(); } catch (e) { err = e.message.slice(0, 300); }
  ok(err === null, `${key} ${d.metadata.name} validates against the schema ${err || ''}`);
  if (d.kind !== 'Namespace') ok(d.metadata.namespace === 'eventsourcing', `${d.kind} ${d.metadata.name} in namespace eventsourcing`);
}
// a broken object must fail, or the validation above proves nothing
{
  const { Deployment } = require('kubernetes-models/apps/v1');
  let threw = false;
  try { new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'three' } }).validate(); } catch (e) { threw = true; }
  ok(threw, 'a malformed Deployment is refused by the schema check');
}
const find = (kind, name) => docs.find(d => d.kind === kind && (!name || d.metadata.name === name || d.metadata.name.startsWith(name + '-')));
const hpa = find('HorizontalPodAutoscaler', 'gateway');
ok(hpa && hpa.spec.minReplicas === 3 && hpa.spec.maxReplicas === 10 && hpa.spec.scaleTargetRef.name === 'gateway', 'HPA scales the gateway Deployment 3..10');
const dep = find('Deployment', 'gateway');
const c = dep.spec.template.spec.containers[0];
ok(dep.spec.replicas === 3, 'gateway Deployment: 3 replicas');
ok(c.livenessProbe.httpGet.path === '/health/live' && c.readinessProbe.httpGet.path === '/health/ready', 'probes: /health/live and /health/ready');
ok(c.resources.requests.cpu && c.resources.limits.memory, 'gateway resources: requests and limits');
const drain = Number((c.env.find(e => e.name === 'ES_REQUEST_TIMEOUT_MS') || {}).value) / 1000;
ok(dep.spec.template.spec.terminationGracePeriodSeconds > drain + 2 + 5, `terminationGracePeriodSeconds (${dep.spec.template.spec.terminationGracePeriodSeconds}) > drain ${drain} s + 2 s + preStop 5 s`);
ok(dep.spec.template.spec.securityContext.runAsNonRoot === true, 'gateway runs as non-root');
const pdb = find('PodDisruptionBudget', 'gateway');
ok(pdb && pdb.spec.minAvailable === 2 && pdb.spec.selector.matchLabels['app.kubernetes.io/name'] === 'gateway', 'PDB keeps 2 gateways available');
const np = docs.filter(d => d.kind === 'NetworkPolicy');
const deny = np.find(p => Object.keys(p.spec.podSelector).length === 0 || !p.spec.podSelector.matchLabels);
ok(deny && !deny.spec.ingress && deny.spec.policyTypes.includes('Ingress'), 'a default-deny ingress policy covers every pod');
const gwp = np.find(p => p.spec.podSelector.matchLabels && p.spec.podSelector.matchLabels['app.kubernetes.io/name'] === 'gateway');
ok(gwp && gwp.spec.ingress.length === 1 && gwp.spec.ingress[0].from.length === 1 &&
   gwp.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'] === 'ingress-nginx' &&
   !gwp.spec.ingress[0].from[0].podSelector, 'only the ingress controller namespace reaches the gateway');
const pgp = np.find(p => p.spec.podSelector.matchLabels && p.spec.podSelector.matchLabels['app.kubernetes.io/name'] === 'postgres');
ok(pgp && pgp.spec.ingress.length === 1 && pgp.spec.ingress[0].from.length === 1 &&
   pgp.spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/name'] === 'gateway' &&
   !pgp.spec.ingress[0].from[0].namespaceSelector && pgp.spec.ingress[0].ports[0].port === 5432, 'only the gateway reaches PostgreSQL on 5432');
const ing = find('Ingress', 'gateway');
ok(ing.spec.tls && ing.spec.tls[0].secretName.startsWith('gateway-tls-'), 'Ingress terminates TLS with the generated secret');
const sts = find('StatefulSet', 'postgres');
ok(sts.spec.template.spec.containers[0].image.startsWith('es-saas/postgres') && sts.spec.volumeClaimTemplates.length === 1, 'PostgreSQL StatefulSet: es_saas image and a PVC');
const cm = find('ConfigMap', 'gateway-resilience');
ok(cm && cm.data['resilience.yaml'] === resilience, 'ConfigMap holds gateway/config/resilience.yaml');
ok(/^gateway-resilience-[a-z0-9]+$/.test(cm.metadata.name) && c.volumeMounts && dep.spec.template.spec.volumes.some(v => v.configMap && v.configMap.name === cm.metadata.name), 'gateway mounts the hash-named ConfigMap (a change rolls the pods)');
const secrets = docs.filter(d => d.kind === 'Secret');
ok(secrets.length === 3 && secrets.every(s => /-[a-z0-9]{10}$/.test(s.metadata.name)), 'the 3 Secrets come from the secretGenerator (hash-suffixed)');
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
