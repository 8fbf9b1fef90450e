#!/usr/bin/env python3
"""The naive round-trip check of a migration history: pg_dump before and after each step.

The reference that `scripts/check-real-histories.sh` compares `test-downgrade` with. Standard
library only; every SQL statement and dump runs INSIDE a PostgreSQL container through
`docker exec` / `podman exec` (psql and pg_dump of the server's own version, as its local
user, which needs no password).

Usage: naive_downgrade_check.py --engine-cli 'docker -H unix:///var/run/docker.sock'
           --container NAME --user ROLE --migrations DIR --out FILE.json [--quiet]

The container must run an image with the official image's contract, created with
POSTGRES_USER=ROLE: ROLE is its superuser, as the application role of the tool's containers
is on those images (the tool's scratch database is created by that role, OWNER it, TEMPLATE
template0, and the migrations run as it: the naive check does the same, so that both meet
the same privileges).

Per history: the migrations folder is copied into the container; a database `naive_work` is
created (OWNER ROLE TEMPLATE template0) with the layout's tracking table, empty
(`__diesel_schema_migrations` or `_sqlx_migrations`, as diesel and sqlx create them; no row
is ever written to it). For every migration i, in the order the tool applies them:

  1. every --checkpoint-every (20) migrations, `naive_checkpoint` := a copy of `naive_work`
     (CREATE DATABASE ... TEMPLATE), the state before;
  2. up: `psql -X -q -v ON_ERROR_STOP=1 -1 -f up` (no `-1` when diesel's metadata.toml
     makes it run outside a transaction, or an sqlx file starts with `-- no-transaction`);
     a failure ends the chain: the migrations after it are "not-checked";
  3. a down that is missing or holds only comments: "irreversible", go on;
  4. down, dump, compare with the dump before up; up again, dump, compare with the dump
     after up;
  5. after any problem the database is rebuilt: `naive_work` := a copy of the checkpoint,
     then the ups from the checkpoint's migration to this one, each once (state i again, as
     the tool rebuilds its scratch database), so every migration gets a verdict.

Every command goes through one long-lived `bash` in the container (an exec per command would
cost more than the command on a loaded machine).

Dumps: `pg_dump --schema-only` (owners and privileges included), cut into its TOC entries
(the "-- Name: ...; Type: ...; Owner: ..." headers), each entry stripped of comment lines,
SET / set_config lines, blank lines and the `\\restrict` / `\\unrestrict` lines of newer
pg_dump; the entries are compared as a sorted list (the order pg_dump prints objects in is
not part of the schema). When two dumps differ only in the order of the column lines inside
CREATE TABLE entries, the step is "column-order-only".

Verdicts per migration: pass, irreversible, broken (with its steps: down-failed,
down-differs, reup-failed, reup-differs, column-order-only-down, column-order-only-reup),
up-failed, not-checked. The JSON written to --out lists them with the dump differences.
"""

import argparse
import difflib
import json
import os
import re
import shlex
import subprocess
import sys
import time

WORK_DB = "naive_work"
CHECKPOINT_DB = "naive_checkpoint"
IN_CONTAINER = "/tmp/naive-migrations"

DIESEL_TRACKING = """CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);"""
SQLX_TRACKING = """CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);"""

DIFF_LIMIT = 12000


class Migration:
    def __init__(self, name, version, up, down, no_tx_up, no_tx_down):
        self.name = name
        self.version = version
        self.up = up  # path relative to the migrations folder
        self.down = down  # or None
        self.no_tx_up = no_tx_up
        self.no_tx_down = no_tx_down


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def has_statement(sql):
    """Anything but whitespace, `;`, `--` comments and (nested) `/* */` comments."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace() or c == ";" or c == "\ufeff":
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            depth = 0
            while i < n:
                if sql.startswith("/*", i):
                    depth += 1
                    i += 2
                elif sql.startswith("*/", i):
                    depth -= 1
                    i += 2
                    if depth == 0:
                        break
                else:
                    i += 1
        else:
            return True
    return False


def diesel_run_in_transaction(folder):
    """diesel: no metadata.toml -> true; a file without the key -> false (serde default)."""
    path = os.path.join(folder, "metadata.toml")
    if not os.path.exists(path):
        return True
    m = re.search(r"(?m)^\s*run_in_transaction\s*=\s*(true|false)\s*$", read_text(path))
    return m is not None and m.group(1) == "true"


def read_set(path):
    """The migrations folder (PATH or PATH/migrations), its layout and migrations in order."""
    folder = path
    if os.path.isdir(os.path.join(path, "migrations")):
        folder = os.path.join(path, "migrations")
    entries = sorted(os.listdir(folder))
    dirs = [e for e in entries if not e.startswith(".") and os.path.isdir(os.path.join(folder, e))]
    if any(os.path.exists(os.path.join(folder, d, "up.sql")) for d in dirs):
        migrations = []
        for d in dirs:
            m = re.match(r"^([0-9][A-Za-z0-9-]*)_", d)
            if not m or not os.path.exists(os.path.join(folder, d, "up.sql")):
                print(f"naive: skipping {d}", file=sys.stderr)
                continue
            version = m.group(1).replace("-", "")
            no_tx = not diesel_run_in_transaction(os.path.join(folder, d))
            down = f"{d}/down.sql" if os.path.exists(os.path.join(folder, d, "down.sql")) else None
            migrations.append(Migration(d, version, f"{d}/up.sql", down, no_tx, no_tx))
        migrations.sort(key=lambda m: m.version)
        return folder, "diesel", migrations
    ups, downs, simple = {}, {}, {}
    for e in entries:
        m = re.match(r"^(-?[0-9]+)_(.*)\.sql$", e)
        if not m or not os.path.isfile(os.path.join(folder, e)):
            continue
        version = int(m.group(1))
        if e.endswith(".up.sql"):
            ups[version] = e
        elif e.endswith(".down.sql"):
            downs[version] = e
        else:
            simple[version] = e
    migrations = []
    for version in sorted(set(ups) | set(simple)):
        up = ups.get(version) or simple[version]
        down = downs.get(version) if version in ups else None
        name = up[: -len(".up.sql")] if up.endswith(".up.sql") else up[: -len(".sql")]
        no_tx_up = read_text(os.path.join(folder, up)).startswith("-- no-transaction")
        no_tx_down = (
            read_text(os.path.join(folder, down)).startswith("-- no-transaction")
            if down
            else no_tx_up
        )
        migrations.append(Migration(name, version, up, down, no_tx_up, no_tx_down))
    return folder, "sqlx", migrations


class Container:
    """One long-lived `bash` in the container (`exec -i`), fed one command at a time: an exec
    costs a few hundred milliseconds on a loaded machine, several times what the command
    itself does. Each command's stdout and stderr go to files in the container, which are
    then sent back behind a header line holding the exit code and both sizes."""

    def __init__(self, engine_cli, name, user):
        self.cli = shlex.split(engine_cli)
        self.name = name
        self.user = user
        self.shell = subprocess.Popen(
            self.cli + ["exec", "-i", name, "bash"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def close(self):
        if self.shell.poll() is None:
            self.shell.stdin.close()
            self.shell.wait(timeout=30)

    def run(self, args, stdin_file=None):
        """(exit code, stdout, stderr) of `args` run in the container."""
        command = " ".join(shlex.quote(a) for a in args)
        if stdin_file:
            command += " < " + shlex.quote(stdin_file)
        script = (
            f"{command} >/tmp/naive.out 2>/tmp/naive.err; rc=$?; "
            "printf '@@naive %d %d %d\\n' \"$rc\" \"$(stat -c %s /tmp/naive.out)\" "
            "\"$(stat -c %s /tmp/naive.err)\"; cat /tmp/naive.out /tmp/naive.err\n"
        )
        self.shell.stdin.write(script.encode())
        self.shell.stdin.flush()
        header = self.shell.stdout.readline().decode()
        if not header.startswith("@@naive "):
            raise RuntimeError(f"the shell in {self.name} answered {header!r}")
        rc, out_len, err_len = (int(x) for x in header.split()[1:])
        out = self.shell.stdout.read(out_len).decode("utf-8", "replace")
        err = self.shell.stdout.read(err_len).decode("utf-8", "replace")
        return rc, out, err

    def psql(self, database, sql):
        """Runs SQL (written to a file in the container first); raises on failure."""
        script = self.write_file("/tmp/naive.sql", sql)
        rc, out, err = self.run(
            ["psql", "-X", "-q", "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1",
             "-f", script]
        )
        if rc != 0:
            raise RuntimeError(f"psql on {database} failed: {err.strip()}")
        return out

    def write_file(self, path, text):
        marker = "NAIVE_EOF_7f3a9c"
        assert marker not in text
        self.shell.stdin.write(f"cat > {shlex.quote(path)} <<'{marker}'\n{text}\n{marker}\n".encode())
        return path

    def run_file(self, database, path, single_transaction):
        args = ["psql", "-X", "-q", "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1"]
        if single_transaction:
            args.append("-1")
        args += ["-f", f"{IN_CONTAINER}/{path}"]
        rc, _, err = self.run(args)
        if rc != 0:
            errors = [l for l in err.splitlines() if "ERROR" in l or "FATAL" in l]
            return (errors[-1] if errors else err.strip()[-500:]) or f"psql exit {rc}"
        return None

    def dump(self, database):
        rc, out, err = self.run(["pg_dump", "--schema-only", "-U", self.user, "-d", database])
        if rc != 0:
            raise RuntimeError(f"pg_dump of {database} failed: {err.strip()}")
        return normalise(out)

    def copy_in(self, folder):
        self.run(["rm", "-rf", IN_CONTAINER])
        r = subprocess.run(
            self.cli + ["cp", folder, f"{self.name}:{IN_CONTAINER}"], capture_output=True, text=True
        )
        if r.returncode != 0:
            raise RuntimeError(f"copy of {folder} into the container failed: {r.stderr.strip()}")
        # Readable by whoever psql runs as.
        self.run(["chmod", "-R", "a+rX", IN_CONTAINER])


NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config\(|\\restrict |\\unrestrict )")


def normalise(text):
    """A dump as a sorted list of TOC entries, each a tuple of its significant lines."""
    entries, current = [], []
    for line in text.splitlines():
        if line.startswith("-- Name: ") or line.startswith("-- TOC entry "):
            if current:
                entries.append(tuple(current))
            current = []
            continue
        if not line.strip() or NOISE.match(line):
            continue
        current.append(line.rstrip())
    if current:
        entries.append(tuple(current))
    return sorted(entries)


def columns_sorted(entries):
    """The entries with the column lines of CREATE TABLE entries sorted (trailing commas cut)."""
    out = []
    for e in entries:
        if e and e[0].startswith("CREATE ") and " TABLE " in e[0] and e[0].endswith("("):
            end = next((k for k in range(1, len(e)) if e[k].startswith(")")), len(e))
            cols = sorted(l.rstrip(",") for l in e[1:end])
            e = (e[0],) + tuple(cols) + e[end:]
        out.append(e)
    return sorted(out)


def compare(expected, actual):
    """None when equal, 'column-order' when only column order differs, else 'differs'."""
    if expected == actual:
        return None
    if columns_sorted(expected) == columns_sorted(actual):
        return "column-order"
    return "differs"


def describe_diff(expected, actual):
    a = ["\n".join(e) for e in expected]
    b = ["\n".join(e) for e in actual]
    removed = [x for x in a if x not in set(b)]
    added = [x for x in b if x not in set(a)]
    lines = []
    for x in removed:
        lines.append("- " + x.replace("\n", "\n- "))
    for x in added:
        lines.append("+ " + x.replace("\n", "\n+ "))
    text = "\n".join(lines)
    if len(text) > DIFF_LIMIT:
        text = text[:DIFF_LIMIT] + f"\n... ({len(text) - DIFF_LIMIT} more characters)"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine-cli", required=True)
    parser.add_argument("--container", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--migrations", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--checkpoint-every", type=int, default=20)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    def progress(index, m, result):
        if not args.quiet:
            print(
                f"naive: {index + 1}/{len(migrations)} {m.name}: {result['verdict']}",
                file=sys.stderr,
            )

    folder, layout, migrations = read_set(args.migrations)
    c = Container(args.engine_cli, args.container, args.user)
    started = time.monotonic()
    c.copy_in(folder)
    user = '"' + args.user.replace('"', '""') + '"'

    def fresh_work(template):
        c.psql(
            "postgres",
            f"DROP DATABASE IF EXISTS {WORK_DB} WITH (FORCE);\n"
            f"CREATE DATABASE {WORK_DB} OWNER {user} TEMPLATE {template};\n",
        )

    fresh_work("template0")
    c.psql(WORK_DB, DIESEL_TRACKING if layout == "diesel" else SQLX_TRACKING)
    before = c.dump(WORK_DB)
    results = []
    broken_chain = None
    checkpoint = None  # the index whose state before is in CHECKPOINT_DB
    for index, m in enumerate(migrations):
        t0 = time.monotonic()
        result = {"name": m.name, "verdict": "pass", "steps": []}
        results.append(result)
        if broken_chain is not None:
            result["verdict"] = "not-checked"
            result["note"] = f"{broken_chain}'s up failed"
            continue
        if index % args.checkpoint_every == 0:
            c.psql(
                "postgres",
                f"DROP DATABASE IF EXISTS {CHECKPOINT_DB} WITH (FORCE);\n"
                f"CREATE DATABASE {CHECKPOINT_DB} OWNER {user} TEMPLATE {WORK_DB};\n",
            )
            checkpoint = index
        error = c.run_file(WORK_DB, m.up, not m.no_tx_up)
        if error:
            result["verdict"] = "up-failed"
            result["steps"].append({"step": "up-failed", "detail": error})
            broken_chain = m.name
            continue
        after_up = c.dump(WORK_DB)
        down_sql = read_text(os.path.join(folder, m.down)) if m.down else None
        if down_sql is None or not has_statement(down_sql):
            result["verdict"] = "irreversible"
            result["note"] = "no down file" if down_sql is None else "down holds no statement"
            before = after_up
            result["millis"] = round((time.monotonic() - t0) * 1000)
            progress(index, m, result)
            continue
        error = c.run_file(WORK_DB, m.down, not m.no_tx_down)
        if error:
            result["steps"].append({"step": "down-failed", "detail": error})
        else:
            after_down = c.dump(WORK_DB)
            kind = compare(before, after_down)
            if kind:
                step = "column-order-only-down" if kind == "column-order" else "down-differs"
                result["steps"].append({"step": step, "detail": describe_diff(before, after_down)})
            error = c.run_file(WORK_DB, m.up, not m.no_tx_up)
            if error:
                result["steps"].append({"step": "reup-failed", "detail": error})
            else:
                again = c.dump(WORK_DB)
                kind = compare(after_up, again)
                if kind:
                    step = "column-order-only-reup" if kind == "column-order" else "reup-differs"
                    result["steps"].append({"step": step, "detail": describe_diff(after_up, again)})
        if result["steps"]:
            steps = {s["step"] for s in result["steps"]}
            only_order = steps <= {"column-order-only-down", "column-order-only-reup"}
            result["verdict"] = "column-order-only" if only_order else "broken"
            # Rebuild S(i): the checkpoint, then the ups after it up to this one's, each once.
            fresh_work(CHECKPOINT_DB)
            for k in range(checkpoint, index + 1):
                error = c.run_file(WORK_DB, migrations[k].up, not migrations[k].no_tx_up)
                if error:
                    result["steps"].append(
                        {"step": "rebuild-failed", "detail": f"{migrations[k].name}: {error}"}
                    )
                    broken_chain = m.name
                    break
            if broken_chain is not None:
                continue
            before = c.dump(WORK_DB)
            if before != after_up:
                result["note"] = "the rebuilt database's dump differs from the first up's"
        else:
            before = after_up
        result["millis"] = round((time.monotonic() - t0) * 1000)
        progress(index, m, result)
    c.psql(
        "postgres",
        f"DROP DATABASE IF EXISTS {WORK_DB} WITH (FORCE);\n"
        f"DROP DATABASE IF EXISTS {CHECKPOINT_DB} WITH (FORCE);\n",
    )
    c.close()
    report = {
        "layout": layout,
        "migrations_folder": folder,
        "millis": round((time.monotonic() - started) * 1000),
        "migrations": results,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
