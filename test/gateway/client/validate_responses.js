// validate_responses.js - checks answers the e2e suite recorded against the
// OpenAPI document the gateway serves.
//
//   node validate_responses.js openapi.json responses.jsonl
//
// Each line of responses.jsonl is {method, path, status, content_type, body}.
// The path is matched against the document's templates; the answer must be
// one the operation declares (status and media type) and a JSON body must
// validate against that response's schema (JSON Schema 2020-12, ajv).  A
// path no template matches may only be a gateway error (400/404/405/414/431/
// 505) with an Error body.  A request the HTTP layer refuses before routing
// (civetweb: bad framing, headers too large, ...) may get such an Error on
// any path: it says so in its message, as the document's description does.  Also: every schema example validates, and every
// operation was seen answering with success.  Prints TAP lines; exit 1 on
// any failure.
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const [docFile, recFile] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docFile, "utf8"));
const records = fs
  .readFileSync(recFile, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// OpenAPI formats JSON Schema does not define
ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
const ID = "https://es-gateway.invalid/openapi.json";
ajv.addSchema({ $id: ID, components: doc.components });

let failed = 0;
let n = 0;
function tap(ok, what) {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? "ok" : "not ok"} ${n} - ${what}`);
}

const compiled = new Map();
function validatorFor(schema) {
  // schemas in the document refer to components by local "#/..." pointers
  const abs = JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, `"$ref":"${ID}#/`));
  const key = JSON.stringify(abs);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(abs));
  return compiled.get(key);
}
function deref(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, "").split("/");
    obj = parts.reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return obj;
}

const templates = Object.keys(doc.paths).map((t) => ({
  t,
  re: new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
}));

// 1. the examples of the schemas are valid instances
for (const [name, schema] of Object.entries(doc.components.schemas)) {
  for (const ex of schema.examples || []) {
    const v = validatorFor({ $ref: `#/components/schemas/${name}` });
    tap(v(ex), `example of ${name} validates` + (v.errors ? ` ${ajv.errorsText(v.errors)}` : ""));
  }
}
for (const [name, resp] of Object.entries(doc.components.responses || {})) {
  for (const [media, mt] of Object.entries(resp.content || {})) {
    if (mt.example === undefined) continue;
    const v = validatorFor(mt.schema);
    tap(v(mt.example), `example of response ${name} (${media}) validates`);
  }
}

// 2. every recorded answer
const seen = new Map(); // "METHOD template" -> Set of statuses
const problems = new Map(); // message -> count
let checked = 0;
function problem(msg) {
  problems.set(msg, (problems.get(msg) || 0) + 1);
}
for (const r of records) {
  const method = r.method.toLowerCase();
  const ctype = (r.content_type || "").split(";")[0].trim().toLowerCase();
  const tpl = templates.find((x) => x.re.test(r.path));
  const op = tpl ? doc.paths[tpl.t][method] : undefined;
  let schema;
  if (!op) {
    if (![400, 404, 405, 414, 431, 505].includes(r.status)) {
      problem(`${r.method} ${r.path}: ${r.status} for a path/method not in the document`);
      continue;
    }
    if (r.body === "" && r.method === "HEAD") continue;
    schema = { $ref: "#/components/schemas/Error" };
    if (ctype !== "application/json") {
      problem(`${r.method} ${r.path} ${r.status}: content type ${ctype}, expected application/json`);
      continue;
    }
  } else {
    const key = `${r.method} ${tpl.t}`;
    if (!seen.has(key)) seen.set(key, new Set());
    seen.get(key).add(r.status);
    let resp = deref(op.responses[String(r.status)]);
    if (!resp && r.status >= 400 && /"message":"request rejected by the HTTP layer"/.test(r.body))
      resp = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    if (!resp) {
      problem(`${key}: status ${r.status} not declared`);
      continue;
    }
    const content = resp.content || {};
    const mt = Object.keys(content).find((m) => m.split(";")[0].trim().toLowerCase() === ctype);
    if (!mt) {
      problem(`${key} ${r.status}: content type "${ctype}" not declared (${Object.keys(content).join(", ")})`);
      continue;
    }
    if (ctype !== "application/json") {
      checked++;
      continue;
    }
    schema = content[mt].schema;
  }
  let body;
  try {
    body = JSON.parse(r.body);
  } catch (e) {
    problem(`${r.method} ${r.path} ${r.status}: body is not JSON`);
    continue;
  }
  const v = validatorFor(schema);
  if (!v(body)) {
    problem(
      `${r.method} ${tpl ? tpl.t : r.path} ${r.status}: ${ajv.errorsText(v.errors)} in ${r.body.slice(0, 300)}`
    );
    continue;
  }
  checked++;
}
for (const [msg, count] of problems) tap(false, `${msg}${count > 1 ? ` (${count} times)` : ""}`);
tap(checked > 0 && problems.size === 0, `${checked} of ${records.length} recorded answers match the document`);

// 3. every operation answered, and with success at least once
for (const [path, item] of Object.entries(doc.paths)) {
  for (const method of Object.keys(item)) {
    const key = `${method.toUpperCase()} ${path}`;
    const st = [...(seen.get(key) || [])].sort();
    tap(st.some((s) => s >= 200 && s < 300), `${key} seen answering success (statuses seen: ${st.join(", ") || "none"})`);
  }
}
console.log(`1..${n}`);
process.exitCode = failed ? 1 : 0;
