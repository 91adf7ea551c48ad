#!/usr/bin/env python3
"""Run the examples of a Markdown file and compare their shown output.

Usage: examples.py FILE.md   (run by test/docs/run_examples.sh, which sets
PGHOST/PGPORT/PGUSER/PGDATABASE, and ES_DOCS_GATEWAY, ADMIN, TENANT for curl)

The convention (also in test/README.md):

* Examples are fenced blocks tagged ```sql, ```sh, ```bash, ```console or
  ```shell.  An HTML comment `<!-- not-run: reason -->` on the line right
  before the fence keeps a block from running (reported, not executed).
  Untagged fences and indented blocks are not examples; one that holds a
  SQL statement or a curl command is an error (tag it).
* sql: statements run in order, one psql session per block (psql -X -q,
  tuples only, VERBOSITY default, SHOW_CONTEXT never); lines starting with a
  backslash are psql meta-commands.  The `--` comment lines right after the
  line that ends a statement (no blank line between) are its shown output:
  rows as psql prints them without the header, or the ERROR / DETAIL lines.
  A comment after a blank line, or at the end of the statement's line, is
  commentary.  A statement without shown output must not fail.  Shown
  output starting with the line `-- (async, eventually)` is what the query
  returns once the projection worker caught up: it is re-run until it
  matches (10 s).
* sh/bash/console/shell: when a block has `$ ` lines, those are commands
  and the lines up to the next `$ ` are their shown output (none: the
  command prints nothing); otherwise every
  line is a command and only its exit status is checked.  Lines ending in
  a backslash continue.  `127.0.0.1:8080` (make run's gateway) is replaced
  by the address of the gateway the harness started.
* Comparison, after which nothing else may differ: runs of white space
  count as one space; UUIDs become <uuid>; ISO 8601 / PostgreSQL timestamps
  become <timestamp>; psql's "psql:<stdin>:N: " error prefix is dropped;
  `...` in shown output stands for any text.

Prints TAP: one line per statement or command, with FILE:LINE; with
ES_DOCS_SHOW=1 also every actual output (to write the shown output).
"""
import os
import re
import subprocess
import sys
import time

SHELL_LANGS = {"sh", "bash", "console", "shell"}
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)?")
LOOKS_LIKE_EXAMPLE = re.compile(
    r"^\s*(\$ )?(curl\s|SELECT\s|INSERT\s|UPDATE\s|DELETE\s|CREATE\s|ALTER\s|DROP\s|GRANT\s)")
EVENTUALLY = "(async, eventually)"


def normalise(text):
    text = UUID.sub("<uuid>", text)
    text = TIMESTAMP.sub("<timestamp>", text)
    return " ".join(text.split())


def matches(shown, actual):
    """shown (with ... for any text) against actual, both normalised"""
    pattern = ".*?".join(re.escape(p) for p in normalise(shown).split("..."))
    return re.fullmatch(pattern, normalise(actual), re.S) is not None


def blocks(path):
    """(line of the fence, language, lines with their numbers, not-run reason)"""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i, prev = [], 0, ""
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if m:
            lang, start, body = m.group(2), i + 1, []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append((i + 1, lines[i]))
                i += 1
            nr = re.match(r"^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$", prev)
            out.append((start, lang, body, nr.group(1) if nr else None))
            prev = ""
            i += 1
            continue
        if lines[i].startswith("    "):
            # indented code: not an example, only checked to hold none
            out.append((i + 1, "indented", [(i + 1, lines[i])], None))
        if lines[i].strip():
            prev = lines[i]
        i += 1
    return out


def split_sql(body):
    """[(line, text, shown or None)] for the statements and meta-commands"""
    items, cur, cur_line = [], [], None
    quote = None  # None, "'", '"' or a $tag$
    j = 0
    while j < len(body):
        lineno, line = body[j]
        if quote is None and not cur and line.lstrip().startswith("\\"):
            items.append([lineno, line.strip(), None])
            j += 1
            j = take_shown(body, j, items[-1])
            continue
        if quote is None and not cur and (line.strip() == "" or line.lstrip().startswith("--")):
            j += 1
            continue
        if cur_line is None:
            cur_line = lineno
        k, ended, text = 0, False, line
        while k < len(text):
            c = text[k]
            if quote is None:
                if text.startswith("--", k):
                    text = text[:k]
                    break
                if c in "'\"":
                    quote = c
                elif c == "$":
                    m = re.match(r"\$[A-Za-z_]*\$", text[k:])
                    if m:
                        quote = m.group(0)
                        k += len(quote)
                        continue
                elif c == ";":
                    text = text[:k + 1]
                    ended = True
                    break
            elif len(quote) == 1:
                if c == quote:
                    quote = None
            elif text.startswith(quote, k):
                k += len(quote)
                quote = None
                continue
            k += 1
        cur.append(text)
        j += 1
        if ended:
            items.append([cur_line, "\n".join(cur).strip(), None])
            cur, cur_line = [], None
            j = take_shown(body, j, items[-1])
    if cur and "".join(cur).strip():
        raise ValueError("line %d: statement without a closing ';'" % cur_line)
    return items


def take_shown(body, j, item):
    shown = []
    while j < len(body) and body[j][1].lstrip().startswith("--"):
        shown.append(re.sub(r"^\s*--\s?", "", body[j][1]))
        j += 1
    if shown:
        item[2] = "\n".join(shown)
    return j


PSQL = ["psql", "-X", "-q", "-v", "VERBOSITY=default", "-v", "SHOW_CONTEXT=never",
        "-P", "tuples_only=on", "-P", "pager=off"]


def strip_psql_prefix(text):
    return re.sub(r"(?m)^psql:[^:\n]*:\d+: ", "", text)


def run_sql_block(items):
    """[(stdout+stderr, failed)] per item, one psql session"""
    script = []
    for n, (_, text, _) in enumerate(items):
        script.append("\\echo @@ITEM %d\n\\warn @@ITEM %d\n%s\n" % (n, n, text))
    script.append("\\echo @@ITEM end\n\\warn @@ITEM end\n")
    p = subprocess.run(PSQL, input="".join(script), capture_output=True, text=True,
                       timeout=120)
    out = re.split(r"(?m)^@@ITEM \S+\n", p.stdout)[1:]
    err = re.split(r"(?m)^@@ITEM \S+\n", p.stderr)[1:]
    if len(out) != len(items) + 1 or len(err) != len(items) + 1:
        raise RuntimeError("psql did not run the block:\n" + p.stdout + p.stderr)
    return [(out[n] + strip_psql_prefix(err[n]), "ERROR:" in err[n]) for n in range(len(items))]


def rerun_sql(text):
    p = subprocess.run(PSQL + ["-c", text], capture_output=True, text=True, timeout=60)
    return p.stdout + strip_psql_prefix(p.stderr)


def split_shell(body):
    """[(line, command, shown or None)]"""
    prompted = any(l.startswith("$ ") for _, l in body)
    items, j = [], 0
    while j < len(body):
        lineno, line = body[j]
        if prompted and not line.startswith("$ "):
            if line.strip():
                raise ValueError("line %d: output before any $ command" % lineno)
            j += 1
            continue
        if not prompted and (not line.strip() or line.lstrip().startswith("#")):
            j += 1
            continue
        cmd = [line[2:] if prompted else line]
        while cmd[-1].rstrip().endswith("\\") and j + 1 < len(body):
            j += 1
            cmd.append(body[j][1])
        j += 1
        shown = None
        if prompted:
            out = []
            while j < len(body) and not body[j][1].startswith("$ "):
                out.append(body[j][1])
                j += 1
            while out and not out[-1].strip():
                out.pop()
            shown = "\n".join(out)  # nothing shown: no output
        items.append((lineno, "\n".join(cmd), shown))
    return items


def run_shell(cmd):
    gw = os.environ.get("ES_DOCS_GATEWAY")
    if gw:
        cmd = cmd.replace("127.0.0.1:8080", gw)
    p = subprocess.run(["bash", "-c", "set -o pipefail\n" + cmd], capture_output=True,
                       text=True, timeout=60, cwd=os.environ.get("ES_DOCS_ROOT", "."))
    return p.stdout + p.stderr, p.returncode


def main():
    path = sys.argv[1]
    label = os.path.relpath(path, os.environ.get("ES_DOCS_ROOT", "."))
    n = failed = 0

    def report(ok, line, what, detail=None):
        nonlocal n, failed
        n += 1
        first = " ".join(what.split())
        first = first if len(first) <= 70 else first[:67] + "..."
        print("%s %d - %s:%d %s" % ("ok" if ok else "not ok", n, label, line, first))
        if ok and os.environ.get("ES_DOCS_SHOW"):
            detail = detail or ""
            for l in detail[detail.find("actual:"):].rstrip().split("\n"):
                print("#   " + l)
        if not ok:
            failed += 1
            for l in (detail or "").rstrip().split("\n"):
                print("#   " + l)

    for start, lang, body, not_run in blocks(path):
        if not_run is not None:
            if lang not in SHELL_LANGS | {"sql"}:
                report(False, start, "not-run marker on a block that is no example")
            print("# not run: %s:%d (%s): %s" % (label, start, lang, not_run))
            continue
        if lang == "sql":
            try:
                items = split_sql(body)
                results = run_sql_block(items)
            except (ValueError, RuntimeError) as e:
                report(False, start, "sql block", str(e))
                continue
            for (line, text, shown), (actual, err) in zip(items, results):
                if shown is None:
                    report(not err, line, text, "failed\nactual:\n" + actual)
                    continue
                expect = shown
                if shown.startswith(EVENTUALLY):
                    expect = shown[len(EVENTUALLY):]
                    deadline = time.time() + 10
                    while not matches(expect, actual) and time.time() < deadline:
                        time.sleep(0.2)
                        actual = rerun_sql(text)
                report(matches(expect, actual), line, text,
                       "shown:\n" + expect + "\nactual:\n" + actual)
        elif lang in SHELL_LANGS:
            try:
                items = split_shell(body)
            except ValueError as e:
                report(False, start, "shell block", str(e))
                continue
            for line, cmd, shown in items:
                actual, rc = run_shell(cmd)
                if shown is None:
                    report(rc == 0, line, cmd, "exit %d\nactual:\n%s" % (rc, actual))
                else:
                    report(rc == 0 and matches(shown, actual), line, cmd,
                           "exit %d\nshown:\n%s\nactual:\n%s" % (rc, shown, actual))
        else:
            for line, text in body:
                if LOOKS_LIKE_EXAMPLE.match(text):
                    report(False, line, "an example outside a sql/sh fence (%s): tag it"
                           % (lang or "untagged"), text)
                    break
    print("1..%d" % n)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
