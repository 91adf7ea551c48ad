#!/usr/bin/env python3
"""promql_check.py PROM_URL DASHBOARD_JSON - every PromQL expression of the
Grafana dashboard and of the alert rules Prometheus loaded is evaluated through
Prometheus' HTTP API: it must parse, and return data where the metric exists.
Dashboard panels described "NOT EXPORTED YET" must return nothing (so the note
stays true).  Alert expressions are conditions (empty when healthy): their
left-hand side, without the final threshold, must return data.  Prints TAP."""
import json
import re
import sys
import urllib.parse
import urllib.request

prom, dashboard = sys.argv[1], sys.argv[2]
n = failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    failed += 0 if cond else 1
    print(("ok" if cond else "not ok") + f" {n} - {desc}")


def query(expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400 = parse error
        return json.load(e)


with open(dashboard) as f:
    panels = json.load(f)["panels"]
for p in panels:
    missing = p.get("description", "").startswith("NOT EXPORTED YET")
    for t in p["targets"]:
        r = query(t["expr"])
        ok(r.get("status") == "success", f"dashboard '{p['title']}' parses: {r.get('error', '')}")
        got = len(r.get("data", {}).get("result", []))
        if missing:
            ok(got == 0, f"dashboard '{p['title']}': metric not exported yet (no data)")
        else:
            ok(got > 0, f"dashboard '{p['title']}' returns data ({got} series)")

with urllib.request.urlopen(prom + "/api/v1/rules", timeout=10) as r:
    groups = json.load(r)["data"]["groups"]
rules = [rule for g in groups for rule in g["rules"]]
ok(len(rules) == 6, f"Prometheus loaded the 6 alert rules (got {len(rules)})")
for rule in rules:
    ok(rule.get("health") == "ok", f"alert {rule['name']}: health {rule.get('health')} {rule.get('lastError', '')}")
    r = query(rule["query"])
    ok(r.get("status") == "success", f"alert {rule['name']} parses")
    lhs = re.sub(r"\s*(==|!=|>=|<=|>|<)\s*[0-9.]+\s*$", "", rule["query"].strip())
    r = query(lhs)
    got = len(r.get("data", {}).get("result", []))
    ok(r.get("status") == "success" and got > 0, f"alert {rule['name']}: '{lhs[:60]}' returns data ({got} series)")
print(f"1..{n}")
sys.exit(1 if failed else 0)
