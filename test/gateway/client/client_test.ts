// client_test.ts - a client written only against the types openapi-typescript
// generated from GET /api/v1/openapi.json (api.d.ts), calling a real gateway
// through openapi-fetch.  Prints TAP-like "ok"/"not ok" lines; exit 1 on any
// failure.  Env: ES_URL, ES_SECRET (the gateway's HS256 secret), ES_TENANT.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

declare function require(module: string): any;
declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type Command = components["schemas"]["Command"];
type AppendCommand = components["schemas"]["AppendCommand"];
type ErrorBody = components["schemas"]["Error"];
type Event = components["schemas"]["Event"];

const crypto = require("crypto");
const base = process.env.ES_URL ?? "";
const secret = process.env.ES_SECRET ?? "";
const tenant = process.env.ES_TENANT ?? "client-test";
let failed = 0;

function check(cond: boolean, what: string): void {
  if (!cond) failed++;
  console.log(`${cond ? "ok" : "not ok"} - ${what}`);
}

function b64u(s: string): string {
  return Buffer.from(s).toString("base64url");
}
declare const Buffer: { from(s: string): { toString(enc: string): string } };

// HS256 JWT signed with the gateway's secret
function token(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64u(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64u(
    JSON.stringify({ sub: "client-test", iat: now, exp: now + 600, ...claims })
  )}`;
  const sig: string = crypto.createHmac("sha256", secret).update(input).digest("base64url");
  return `${input}.${sig}`;
}

async function main(): Promise<void> {
  const admin = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token({ roles: ["admin"] })}` } });
  const api = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token({ tenant_id: tenant })}` } });

  // public route, typed body
  const health = await api.GET("/health");
  check(health.response.status === 200 && health.data?.status === "ok", "GET /health is ok");

  // tenant (admin token)
  const created = await admin.POST("/api/v1/tenants", { body: { id: tenant, name: "Client Test" } });
  check(created.response.status === 201 && created.data?.id === tenant, `createTenant ${tenant}: 201`);
  check(created.data?.status === "active", "the new tenant is active");

  // append with the built-in command
  const append: AppendCommand = {
    type: "append",
    stream: "order-1",
    expected_version: 0,
    events: [{ type: "OrderPlaced", data: { total: 42 } }, { type: "OrderPaid", data: { amount: 42 }, metadata: { by: "ts" } }],
  };
  const cmd: Command = append;
  const exec = await api.POST("/api/v1/commands/execute", { body: cmd });
  check(exec.response.status === 200, `executeCommand append: 200 (got ${exec.response.status})`);
  // a 202 (spooled while the event store is away) carries only id + status
  const result = exec.data !== undefined && "events" in exec.data ? exec.data : undefined;
  check(result?.version === 2 && result.events.length === 2, "append result: version 2, two events");
  const lastPosition = result?.position ?? -1;

  // read the stream
  const stream = await api.GET("/api/v1/streams/{stream}", { params: { path: { stream: "order-1" }, query: { from_version: 1 } } });
  const events: Event[] = stream.data?.events ?? [];
  check(stream.response.status === 200 && stream.data?.version === 2, "readStream: 200, version 2");
  check(events.map((e) => e.type).join(",") === "OrderPlaced,OrderPaid", "readStream: both events in order");
  check(events[1]?.position === lastPosition, "last event position equals the append result position");

  // a built-in query
  const q = await api.POST("/api/v1/queries/execute", { body: { type: "log", after_position: 0, limit: 10 } });
  const qr = q.data;
  const logEvents = qr !== undefined && qr !== null && typeof qr === "object" && "events" in qr && Array.isArray(qr.events) ? qr.events : [];
  check(q.response.status === 200 && logEvents.length === 2, `executeQuery log: 200, 2 events (got ${logEvents.length})`);

  // the tenant log page
  const log = await api.GET("/api/v1/events", { params: { query: { after: 0, limit: 1 } } });
  // two media types on one operation: the JSON page or the event stream text
  const page = typeof log.data === "object" ? log.data : undefined;
  check(log.response.status === 200 && page?.events.length === 1, "readEvents limit 1: one event");

  // the fate of a command run with an id
  const id = crypto.randomUUID() as string;
  const withId = await api.POST("/api/v1/commands/execute", {
    body: { type: "append", stream: "order-2", events: [{ type: "OrderPlaced", data: {} }], id },
  });
  const fate = await api.GET("/api/v1/commands/{id}", { params: { path: { id } } });
  check(withId.response.status === 200 && fate.response.status === 200 && fate.data?.status === "executed" &&
        fate.data.result.stream === "order-2", "getCommand: executed, result of the stored command");

  // 409: wrong expected version, read through the typed error body
  const stale = await api.POST("/api/v1/commands/execute", {
    body: { type: "append", stream: "order-1", expected_version: 1, events: [{ type: "OrderShipped", data: {} }] },
  });
  const err: ErrorBody | undefined = stale.error;
  check(stale.response.status === 409, `stale append: 409 (got ${stale.response.status})`);
  check(err?.error.code === "wrong_expected_version", "409 error code wrong_expected_version");
  check(err?.error.details.reason === "wrong_expected_version" && err.error.details["current_version"] === 2,
        "409 details: reason wrong_expected_version, current_version 2");

  // 401 without a token, typed error body again
  const anon = createClient<paths>({ baseUrl: base });
  const denied = await anon.GET("/api/v1/tenants/{id}", { params: { path: { id: tenant } } });
  check(denied.response.status === 401 && denied.error?.error.code === "missing_token",
        `no token: 401 missing_token (got ${denied.response.status} ${JSON.stringify(denied.error)})`);
}

main().then(
  () => { process.exitCode = failed ? 1 : 0; },
  (e: unknown) => { console.log(`not ok - exception ${String(e)}`); process.exitCode = 1; }
);
