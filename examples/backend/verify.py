#!/usr/bin/env python3
"""Verifies the backend recipe on a real ClickHouse engine (chDB), end to end:

1. runs the built mini-werf (and the werf-wire fixture, for installation ids) over a
   scripted mix of command lines — successes, failures, several versions, CI and not,
   options from the command line and the environment, inside two git repositories and
   outside any — against a loopback OTLP/HTTP receiver;
2. turns each received request into `otel_traces` rows exactly as the contrib collector's
   `clickhouse` exporter maps spans to columns (MAPPING below);
3. creates the table with the exporter's DDL (sql/otel_traces.sql), loads the catalogs
   (sql/catalog.sql, sql/load_catalog.sql), runs every query in queries/ and checks each
   answer against what this script knows it sent;
4. writes report.html (one page, charts as inline SVG) from the query results.

Prints one line per check and ends with `N passed, M failed`; exits non-zero on any
failure. Run through verify.sh, which builds the binaries and installs chDB.

    verify.py --werf PATH --wire PATH --out DIR
"""
import argparse
import html
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))

# --- MAPPING: an OTLP span → an otel_traces row -----------------------------------------
# As the contrib exporter does it (opentelemetry-collector-contrib,
# exporter/clickhouseexporter/exporter_traces.go, internal/sql_templates/traces_insert.sql):
#   Timestamp          ← span.startTimeUnixNano
#   TraceId, SpanId    ← hex of the ids ("" when empty); ParentSpanId likewise
#   TraceState         ← span.traceState
#   SpanName           ← span.name
#   SpanKind           ← traceutil.SpanKindStr(kind): "SPAN_KIND_INTERNAL", …
#   ServiceName        ← resource attribute service.name
#   ResourceAttributes ← resource attributes, every value as its string form (AsString)
#   ScopeName/Version  ← the scope's name and version
#   SpanAttributes     ← span attributes, every value as its string form: ints as
#                        decimal text, strings as they are (eventData and attributes
#                        stay JSON text)
#   Duration           ← end − start in nanoseconds
#   StatusCode         ← traceutil.StatusCodeStr(code): "STATUS_CODE_UNSET", …
#   StatusMessage      ← status.message; Events.*, Links.* ← the span's events and links
SPAN_KINDS = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
              "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"]
STATUS_CODES = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]


def any_value_str(v):
    """pcommon.Value.AsString for the kinds a span attribute can have."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return str(int(v["intValue"]))
    if "boolValue" in v:
        return "true" if v["boolValue"] else "false"
    if "doubleValue" in v:
        return json.dumps(v["doubleValue"])
    return json.dumps(v)


def attrs_map(attrs):
    return {a["key"]: any_value_str(a.get("value", {})) for a in attrs or []}


def nanos_to_ch(ns):
    ns = int(ns)
    dt = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + f".{ns % 1_000_000_000:09d}"


def rows_of(request):
    rows = []
    for rs in request.get("resourceSpans", []):
        res = attrs_map(rs.get("resource", {}).get("attributes"))
        for ss in rs.get("scopeSpans", []):
            scope = ss.get("scope", {})
            for s in ss.get("spans", []):
                start, end = int(s.get("startTimeUnixNano", 0)), int(s.get("endTimeUnixNano", 0))
                status = s.get("status", {})
                rows.append({
                    "Timestamp": nanos_to_ch(start),
                    "TraceId": s.get("traceId", ""),
                    "SpanId": s.get("spanId", ""),
                    "ParentSpanId": s.get("parentSpanId", ""),
                    "TraceState": s.get("traceState", ""),
                    "SpanName": s.get("name", ""),
                    "SpanKind": SPAN_KINDS[int(s.get("kind", 0))],
                    "ServiceName": res.get("service.name", ""),
                    "ResourceAttributes": res,
                    "ScopeName": scope.get("name", ""),
                    "ScopeVersion": scope.get("version", ""),
                    "SpanAttributes": attrs_map(s.get("attributes")),
                    "Duration": max(0, end - start),
                    "StatusCode": STATUS_CODES[int(status.get("code", 0))],
                    "StatusMessage": status.get("message", ""),
                })
    return rows


# --- the loopback receiver -------------------------------------------------------------
class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        with Receiver.lock:
            Receiver.bodies.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


# --- the scripted mix -------------------------------------------------------------------
class Run:
    def __init__(self, app, args, env=None, cwd=None, home=None, version=None, code=0, kill_after=None,
                 sample=None):
        self.app, self.args, self.env = app, args, dict(env or {})
        self.cwd, self.home, self.version, self.code = cwd, home, version, code
        # Sampled at this rate (WERF_TELEMETRY_SAMPLE_RATE): kept or not, the script can't
        # know in advance; delivered inline, so that what is kept is in before it exits.
        self.sample = sample
        if sample is not None:
            self.env.update(WERF_TELEMETRY_SAMPLE_RATE=str(sample), WERF_TELEMETRY_DELIVERY="inline")
        # Killed with SIGKILL after this many seconds: CommandStarted, no CommandExited.
        self.kill_after = kill_after
        if kill_after is not None:
            self.code = -9


SAMPLED_RUNS, SAMPLE_RATE = 40, 0.5


def scenario(repos, homes):
    """The command lines, with what each must do. repos: two git work trees."""
    r = []
    v = ["1.2.0", "1.2.1", "1.3.0"]
    for i in range(4):
        r.append(Run("werf", ["converge", "--repo", "registry/app"], version=v[i % 3], cwd=repos[i % 2]))
    r.append(Run("werf", ["-vv", "converge", "--repo", "registry/app", "--set", "a=1", "--set", "b=2"],
                 version="1.3.0", cwd=repos[0]))
    r.append(Run("werf", ["converge"], env={"WERF_REPO": "registry/app", "WERF_ENV": "prod"},
                 version="1.3.0", cwd=repos[1]))
    r.append(Run("werf", ["converge", "--repo", "registry/app", "--dev"], env={"CI": "true", "GITLAB_CI": "true"},
                 version="1.2.1"))
    for _ in range(3):  # the registry was unreachable in 1.2.0: main maps it to 69
        r.append(Run("werf", ["converge", "--repo", "unreachable.example/app"], version="1.2.0", code=69))
    r.append(Run("werf", ["converge", "--repo", "registry/app", "--fail-with", "5"], version="1.3.0", code=5))
    for i in range(3):
        r.append(Run("werf", ["build", "img-a", "img-b"], version=v[i], cwd=repos[0]))
    for i, ms in enumerate([0, 20, 40, 80, 160]):
        r.append(Run("werf", ["--dir", "deploy", "helm", "get-release", "--namespace", "prod"],
                     env={"BENCH_WORK_MS": str(ms)}, version=v[i % 3]))
    # A mistyped option: clap's usage error, reported as a run of `werf converge` with 2.
    r.append(Run("werf", ["converge", "--bogus"], version="1.3.0", code=2))
    # A run killed while it works (SIGKILL): an interrupted run (queries/10).
    r.append(Run("werf", ["helm", "get-release", "--namespace", "prod"], env={"BENCH_WORK_MS": "30000"},
                 version="1.3.0", kill_after=0.5))
    r.append(Run("werf", ["kube-run", "--exit-code", "3"], version="1.2.1", code=3))
    r.append(Run("werf", ["kube-run", "--exit-code", "0"], env={"GITHUB_ACTIONS": "true"}, version="1.3.0"))
    # Who is typing (SPEC S-22): agents by their own variables and by AI_AGENT; an AI_AGENT
    # that is not a name is dropped. One agent run fails with a category.
    r.append(Run("werf", ["converge", "--repo", "registry/app"], env={"CLAUDECODE": "1"}, version="1.3.0"))
    r.append(Run("werf", ["converge", "--repo", "unreachable.example/app"], env={"CLAUDECODE": "1"},
                 version="1.3.0", code=69))
    r.append(Run("werf", ["helm", "get-release", "--namespace", "n"], env={"GEMINI_CLI": "1"}, version="1.3.0"))
    r.append(Run("werf", ["kube-run", "--exit-code", "0"], env={"AI_AGENT": "Acme-Bot/1.0"}, version="1.3.0"))
    r.append(Run("werf", ["kube-run", "--exit-code", "0"], env={"AI_AGENT": "/home/alice/agent"}, version="1.3.0"))
    # In a Kubernetes pod (SPEC S-22): containers are counted apart.
    r.append(Run("werf", ["kube-run", "--exit-code", "0"], env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
                 version="1.3.0"))
    # A high-volume command, sampled: each run kept with probability 1/2 (SPEC S-20).
    for _ in range(SAMPLED_RUNS):
        r.append(Run("werf", ["kube-run", "--exit-code", "0"], version="1.3.0", sample=SAMPLE_RATE))
    # The werf-wire fixture sends an installation id: three installations (homes), one CI.
    for i, home in enumerate(homes):
        for _ in range(2):
            r.append(Run("wire", ["converge", "--repo", "x"], home=home))
    r.append(Run("wire", ["converge", "--repo", "x"], env={"CI": "true"}, home=homes[0]))
    # Ephemeral containers: each start a fresh home, so a fresh installation id.
    for i in range(POD_STARTS):
        r.append(Run("wire", ["converge", "--repo", "x"], env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
                     home=os.path.join(os.path.dirname(homes[0]), f"pod-{i}")))
    return r


POD_STARTS = 4


def agent_of(run):
    """What the library names as the agent of `run` (context.rs's rules, for the runs here)."""
    if "AI_AGENT" in run.env:
        name = run.env["AI_AGENT"].strip().split("/")[0].lower()
        ok = 0 < len(name) <= 32 and all(ch.isdigit() or "a" <= ch <= "z" or ch == "-" for ch in name)
        if ok:
            return name
    for var, agent in (("CLAUDECODE", "claude-code"), ("GEMINI_CLI", "gemini-cli")):
        if run.env.get(var) == "1":
            return agent
    return ""


# The container this machine runs in, as the library tells it (the runs get no container
# variable of the machine's: their environment is their own).
HOST_CONTAINER = ("podman" if os.path.exists("/run/.containerenv")
                  else "docker" if os.path.exists("/.dockerenv") else "")


def container_of(run):
    return "kubernetes" if "KUBERNETES_SERVICE_HOST" in run.env else HOST_CONTAINER


def category_of(run):
    """The mini-werf names an unreachable registry; no other failure has a category."""
    return "registry-unreachable" if run.code == 69 else ""


def run_all(runs, bins, url, scratch):
    env_base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for i, run in enumerate(runs):
        home = run.home or os.path.join(scratch, f"home-{i}")
        os.makedirs(home, exist_ok=True)
        env = dict(env_base, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                   XDG_CACHE_HOME=os.path.join(home, "cache"))
        if run.app == "werf":
            env.update(WERF_TELEMETRY="1", WERF_TELEMETRY_TRACE_URL=url)
            if run.version:
                env["WERF_DEMO_VERSION"] = run.version
        else:
            env.update(APP_TELEMETRY="1", APP_TELEMETRY_TRACE_URL=url,
                       APP_TELEMETRY_PROTOCOL="http/json")
        env.update(run.env)
        p = subprocess.Popen([bins[run.app]] + run.args, env=env, cwd=run.cwd or scratch,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if run.kill_after is not None:
            time.sleep(run.kill_after)
            p.send_signal(signal.SIGKILL)
        run.status = p.wait(timeout=60)


def is_sampled(row):
    return "sampleRate" in json.loads(row["SpanAttributes"].get("attributes", "{}"))


def received(event_type, sampled=None):
    """Spans of `event_type` received; only unsampled (False) or sampled (True) ones."""
    with Receiver.lock:
        return sum(1 for body in Receiver.bodies for row in rows_of(body)
                   if row["SpanAttributes"].get("eventType") == event_type
                   and (sampled is None or is_sampled(row) == sampled))


def wait_for_delivery(runs, limit=20.0):
    """Detached senders deliver after each run exits (a killed run's CommandStarted too):
    wait until every unsampled run's events are in, or `limit` seconds. (Sampled runs went
    inline: what they kept is in already.)"""
    unsampled = [r for r in runs if r.sample is None]
    started = len(unsampled)
    exited = sum(1 for r in unsampled if r.kill_after is None)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if (received("CommandStarted", sampled=False) >= started
                and received("CommandExited", sampled=False) >= exited):
            return True
        time.sleep(0.1)
    return False


def git_repo(path, origin):
    os.makedirs(path)
    for args in (["init", "-q"], ["remote", "add", "origin", origin]):
        subprocess.run(["git"] + args, cwd=path, check=True,
                       env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null"))


# --- ClickHouse (chDB) ------------------------------------------------------------------
def ch_literal(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def bind(sql, params):
    for name, (kind, value) in params.items():
        literal = ch_literal(value) if kind == "String" else str(int(value))
        sql = sql.replace("{" + name + ":" + kind + "}", literal)
    return sql


class DB:
    def __init__(self, path):
        from chdb import session
        self.s = session.Session(path)

    def run(self, sql):
        self.s.query(sql)

    def rows(self, sql):
        out = self.s.query(sql, "JSONEachRow")
        text = out.bytes().decode() if hasattr(out, "bytes") else str(out)
        return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- the checks ---------------------------------------------------------------------------
class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok      {name}")
        else:
            self.failed += 1
            print(f"FAILED  {name}: {detail}")


def quantile_exact(values, q):
    """ClickHouse's quantileExact: the element at index floor(q * n) of the sorted values."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--werf", required=True)
    ap.add_argument("--wire", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    c = Checks()
    scratch = tempfile.mkdtemp(prefix="cli-telemetry-backend-")
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        repos = [os.path.join(scratch, "repo-a"), os.path.join(scratch, "repo-b")]
        git_repo(repos[0], "git@gitlab.example.com:team/app-a.git")
        git_repo(repos[1], "https://github.com/team/app-b")
        homes = [os.path.join(scratch, f"install-{i}") for i in range(3)]
        runs = scenario(repos, homes)
        run_all(runs, {"werf": a.werf, "wire": a.wire}, url, scratch)
        c.check("every run's events delivered (the killed run's CommandStarted too)",
                wait_for_delivery(runs), f"{received('CommandStarted')} started, "
                f"{received('CommandExited')} exited of {len(runs)} runs")
        server.shutdown()
        for run in runs:
            c.check(f"exit status of {run.app} {' '.join(run.args)}", run.status == run.code,
                    f"{run.status} != {run.code}")

        rows = [row for body in Receiver.bodies for row in rows_of(body)]
        db = DB(os.path.join(scratch, "chdb"))
        db.run(open(os.path.join(HERE, "sql", "otel_traces.sql")).read())
        db.run(open(os.path.join(HERE, "sql", "catalog.sql")).read())
        db.run("INSERT INTO otel_traces FORMAT JSONEachRow\n" + "\n".join(json.dumps(r) for r in rows))
        catalog = subprocess.run([a.werf, "telemetry", "catalog"], capture_output=True, text=True,
                                 env={"PATH": os.environ.get("PATH", "")}, check=True).stdout
        load = open(os.path.join(HERE, "sql", "load_catalog.sql")).read()
        for version in ["1.2.0", "1.3.0"]:
            db.run(bind(load, {"catalog": ("String", catalog), "version": ("String", version)}))
        n = db.rows("SELECT count() AS n FROM otel_traces")[0]["n"]
        c.check("every span is a row", int(n) == len(rows) and len(rows) > 0, f"{n} vs {len(rows)}")

        # Sampled runs: which were kept, the receiver knows (their executionIDs); each kept
        # one stands for 1/rate runs. The checks below expect the unsampled runs exactly and
        # the sampled ones as kept/rate, which the queries must return exactly; one check
        # compares that estimate with the runs actually made, within a stated tolerance.
        kept = len({row["SpanAttributes"]["executionID"] for row in rows if is_sampled(row)})
        scaled = round(kept / SAMPLE_RATE)
        sampled_runs = [r for r in runs if r.sample is not None]
        werf_runs = [r for r in runs if r.app == "werf" and r.sample is None]
        # Runs that ended (05–07 read CommandExited); the killed one did not.
        ended = [r for r in werf_runs if r.kill_after is None]
        params = {"app": ("String", "werf"), "days": ("UInt32", 30), "grace_minutes": ("UInt32", 0)}
        results = {}
        for name in sorted(os.listdir(os.path.join(HERE, "queries"))):
            if name.endswith(".sql"):
                sql = open(os.path.join(HERE, "queries", name)).read()
                p = dict(params, app=("String", "wire")) if name[:2] in ("09", "13") else params
                results[name] = db.rows(bind(sql, p))

        # The facts the script knows, from the command lines it ran.
        def path_of(args):
            skip = {"--repo", "--set", "--dir", "--namespace", "--exit-code", "--fail-with", "--env"}
            out, i = [], 0
            while i < len(args):
                if args[i] in skip:
                    i += 2
                    continue
                if not args[i].startswith("-"):
                    out.append(args[i])
                i += 1
            sub = {"converge": 1, "build": 1, "kube-run": 1, "helm": 2}
            head = out[0]
            return "werf " + " ".join(out[: sub[head]])

        expected_runs = Counter(path_of(r.args) for r in werf_runs)
        expected_runs["werf kube-run"] += scaled
        # SPEC S-20: the scaled estimate against what the script ran. Binomial(n, rate): the
        # estimate's standard deviation is sqrt(n·rate·(1−rate))/rate; the stated tolerance
        # is four of them (a false alarm once in ~16,000 runs of this script).
        sigma = (SAMPLED_RUNS * SAMPLE_RATE * (1 - SAMPLE_RATE)) ** 0.5 / SAMPLE_RATE
        c.check(f"sampled runs: {kept} of {SAMPLED_RUNS} kept at rate {SAMPLE_RATE}, estimated {scaled}, "
                f"within 4σ (±{4 * sigma:.0f}) of the {SAMPLED_RUNS} made",
                abs(scaled - SAMPLED_RUNS) <= 4 * sigma and 0 < kept < SAMPLED_RUNS,
                f"{scaled} vs {SAMPLED_RUNS}")
        sampled_rows = [row for row in rows if is_sampled(row)]
        c.check("sampled runs: whole (a CommandStarted and a CommandExited each), every event with the rate",
                len(sampled_rows) == 2 * kept and all(
                    json.loads(row["SpanAttributes"]["attributes"])["sampleRate"] == SAMPLE_RATE
                    for row in sampled_rows), f"{len(sampled_rows)} rows for {kept} runs")
        got_runs = {row["command"]: int(row["runs"]) for row in results["01_runs_per_command.sql"]}
        c.check("runs per command", got_runs == dict(expected_runs), f"{got_runs} vs {dict(expected_runs)}")

        usage = defaultdict(Counter)
        for row in results["02_option_usage.sql"]:
            usage[row["command"]][row["option"]] = (int(row["runs"]), int(row["from_cli"]), int(row["from_env"]))
        conv = usage["werf converge"]
        c.check("option usage: --repo from the command line", conv["repo"][1] == sum(
            1 for r in werf_runs if path_of(r.args) == "werf converge" and "--repo" in r.args), str(conv["repo"]))
        c.check("option usage: repo from WERF_REPO", conv["repo"][2] == 1, str(conv["repo"]))
        c.check("option usage: env from WERF_ENV only", conv["env"] == (1, 0, 1), str(conv["env"]))
        c.check("option usage: --set, --dev, --verbose", conv["set"][0] == 1 and conv["dev"][0] == 1
                and conv["verbose"][0] == 1, str(dict(conv)))
        c.check("option usage: global --dir under helm get-release",
                usage["werf helm get-release"]["dir"] == (5, 5, 0), str(dict(usage["werf helm get-release"])))
        c.check("option usage: positionals never listed", "images" not in usage["werf build"], str(dict(usage["werf build"])))
        kube = sum(1 for r in werf_runs if path_of(r.args) == "werf kube-run") + scaled
        c.check("option usage: --exit-code of kube-run, sampled runs scaled",
                usage["werf kube-run"]["exit-code"] == (kube, kube, 0), str(dict(usage["werf kube-run"])))

        never = defaultdict(set)
        for row in results["03_never_used_options.sql"]:
            never[row["command"]].add(row["option"])
        cat = json.loads(catalog)
        for cmd in cat["commands"]:
            if cmd["path"] in got_runs:
                names = {o["name"] for o in cmd["options"]}
                used = set(usage[cmd["path"]])
                c.check(f"never-used options of {cmd['path']}", never[cmd["path"]] == names - used,
                        f"{sorted(never[cmd['path']])} vs {sorted(names - used)}")
        c.check("never-used: --parallel-tasks-limit of converge", "parallel-tasks-limit" in never["werf converge"])

        never_cmds = {row["command"] for row in results["04_never_used_commands.sql"]}
        leaves = {cmd["path"] for cmd in cat["commands"] if not cmd["hasSubcommands"]}
        c.check("never-used commands", never_cmds == leaves - set(got_runs),
                f"{sorted(never_cmds)} vs {sorted(leaves - set(got_runs))}")

        fails = {row["command"]: (int(row["runs"]), int(row["failed"]), sorted(int(x) for x in row["exit_codes"]))
                 for row in results["05_failures_by_command.sql"]}
        exp_fail = defaultdict(lambda: [0, 0, set()])
        for r in ended:
            e = exp_fail[path_of(r.args)]
            e[0] += 1
            e[1] += r.code != 0
            e[2].add(r.code)
        exp_fail["werf kube-run"][0] += scaled
        c.check("failures by command", fails == {k: (v[0], v[1], sorted(v[2])) for k, v in exp_fail.items()},
                f"{fails}")

        by_version = Counter()
        for r in ended:
            by_version[(r.version, r.code)] += 1
        by_version[("1.3.0", 0)] += scaled
        got_bv = {(row["version"], int(row["exit_code"])): int(row["runs"]) for row in results["06_exit_codes_by_version.sql"]}
        c.check("exit codes by version", got_bv == dict(by_version), f"{got_bv} vs {dict(by_version)}")

        durations = defaultdict(list)
        for row in rows:
            at = row["SpanAttributes"]
            if row["ServiceName"] == "werf" and at["eventType"] == "CommandExited":
                durations[at["command"]].append(json.loads(at["eventData"])["durationMs"])
        for row in results["07_duration_percentiles.sql"]:
            d = durations[row["command"]]
            ok = all(int(row[k]) == quantile_exact(d, q) for k, q in
                     (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)))
            c.check(f"duration percentiles of {row['command']}", ok, f"{row} vs {sorted(d)}")
        helm = next(r for r in results["07_duration_percentiles.sql"] if r["command"] == "werf helm get-release")
        c.check("helm get-release: p50 ≥ 40 ms and max ≥ 160 ms (the work it was given)",
                int(helm["p50_ms"]) >= 40 and int(helm["max_ms"]) >= 160, str(helm))

        plat = results["08_versions_and_platforms.sql"]
        ci_rows = [p for p in plat if p["ci"] in (True, 1, "true")]
        c.check("CI processes and their systems", sum(int(p["processes"]) for p in ci_rows) == 2
                and {p["ci_name"] for p in ci_rows} == {"gitlab", "github-actions"}, str(ci_rows))
        c.check("processes per version", sum(int(p["processes"]) for p in plat) == len(werf_runs) + scaled,
                str(plat))

        killed = [r for r in werf_runs if r.kill_after is not None]
        interrupted = {(row["command"], row["version"]): (int(row["runs"]), int(row["interrupted"]))
                       for row in results["10_interrupted_runs.sql"]}
        exp_int = {(path_of(r.args), r.version): (sum(1 for x in werf_runs if path_of(x.args) == path_of(r.args)
                                                     and x.version == r.version), 1) for r in killed}
        c.check("interrupted runs: the killed run, per command and version", interrupted == exp_int,
                f"{interrupted} vs {exp_int}")
        sql = open(os.path.join(HERE, "queries", "10_interrupted_runs.sql")).read()
        recent = db.rows(bind(sql, dict(params, grace_minutes=("UInt32", 60))))
        c.check("interrupted runs: none older than a 60-minute grace (the killed run is recent)",
                recent == [], str(recent))
        usage_error = [row for row in results["05_failures_by_command.sql"] if row["command"] == "werf converge"]
        c.check("usage errors: exit code 2 under werf converge",
                bool(usage_error) and 2 in [int(x) for x in usage_error[0]["exit_codes"]], str(usage_error))

        inst = results["09_installations_and_projects.sql"]
        c.check(f"installations: three, and {POD_STARTS} pod starts, none in CI",
                len(inst) == 1 and int(inst[0]["installations"]) == 3 + POD_STARTS, str(inst))

        # SPEC S-22: agents, categories, containers.
        exp_agents = Counter()
        for r in ended:
            exp_agents[agent_of(r)] += 1
        exp_agents[""] += scaled
        got_agents = {row["agent"]: int(row["processes"]) for row in results["11_runs_by_agent.sql"]}
        c.check("runs by agent (an AI_AGENT that is not a name counts as none)",
                got_agents == {k: v for k, v in exp_agents.items() if v}, f"{got_agents} vs {dict(exp_agents)}")
        agent_fail = {row["agent"]: int(row["failed"]) for row in results["11_runs_by_agent.sql"]}
        c.check("failures of an agent's runs", agent_fail.get("claude-code") == 1, str(agent_fail))
        exp_cat = Counter()
        for r in ended:
            if r.code != 0:
                exp_cat[(path_of(r.args), category_of(r))] += 1
        got_cat = {(row["command"], row["category"]): int(row["failed"])
                   for row in results["12_failures_by_category.sql"]}
        c.check("failures by category per command", got_cat == dict(exp_cat), f"{got_cat} vs {dict(exp_cat)}")
        c.check("the category, never the error's text, in any row",
                not any("registry is unreachable" in json.dumps(row) for row in rows))
        wire_runs = [r for r in runs if r.app == "wire"]
        exp_cont = defaultdict(lambda: [set(), 0])
        for r in wire_runs:
            e = exp_cont[container_of(r)]
            if "CI" not in r.env:
                e[0].add(r.home)
            e[1] += 1
        got_cont = {row["container"]: (int(row["installations"]), int(row["processes"]))
                    for row in results["13_installations_in_containers.sql"]}
        c.check("installations with containers counted apart",
                got_cont == {k: (len(v[0]), v[1]) for k, v in exp_cont.items()},
                f"{got_cont} vs {dict((k, (len(v[0]), v[1])) for k, v in exp_cont.items())}")
        projects = db.rows(bind("""SELECT uniqExactIf(SpanAttributes['projectID'], SpanAttributes['projectID'] != '') AS p
                                   FROM otel_traces WHERE ServiceName = {app:String}""", params))
        c.check("projects: the two repositories", int(projects[0]["p"]) == 2, str(projects))

        report(a.out, results, cat, durations, sampled=kept > 0)
        page = open(os.path.join(a.out, "report.html")).read()
        c.check("report written", len(page) > 1000)
        c.check("the report says its counts are estimates (sampled runs present)", ESTIMATES in page)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


# --- the report ---------------------------------------------------------------------------
COLORS = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#dc2626", "#0891b2", "#ca8a04"]


def bars(items, width=520, unit="", color="#2563eb", highlight=None, label_width=250):
    """Horizontal bar chart, inline SVG. items: [(label, value)]."""
    if not items:
        return "<p class=none>none</p>"
    h = 24 * len(items) + 8
    top = max(v for _, v in items) or 1
    x0 = label_width + 6
    out = [f'<svg width="{x0 + width + 70}" height="{h}" role="img">']
    for i, (label, value) in enumerate(items):
        y = 4 + 24 * i
        w = max(int(width * value / top), 2)
        fill = (highlight or {}).get(label, color)
        out.append(f'<text x="{label_width}" y="{y + 15}" text-anchor="end">{html.escape(str(label))}</text>')
        out.append(f'<rect x="{x0}" y="{y}" width="{w}" height="18" rx="3" fill="{fill}"/>')
        out.append(f'<text x="{x0 + w + 6}" y="{y + 15}">{value}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def stacked(versions, codes, counts, width=520):
    h = 30 * len(versions) + 30
    top = max(sum(counts.get((v, k), 0) for k in codes) for v in versions) or 1
    out = [f'<svg width="{width + 260}" height="{h}" role="img">']
    for i, v in enumerate(versions):
        y, x = 4 + 30 * i, 256
        out.append(f'<text x="250" y="{y + 17}" text-anchor="end">{html.escape(v)}</text>')
        for j, k in enumerate(codes):
            n = counts.get((v, k), 0)
            w = int(width * n / top)
            if n:
                out.append(f'<rect x="{x}" y="{y}" width="{w}" height="22" fill="{COLORS[j % len(COLORS)]}"><title>exit {k}: {n}</title></rect>')
                if w > 18:
                    out.append(f'<text x="{x + 4}" y="{y + 16}" fill="white">{n}</text>')
            x += w
    legend_y = 30 * len(versions) + 20
    for j, k in enumerate(codes):
        out.append(f'<rect x="{256 + 90 * j}" y="{legend_y - 11}" width="12" height="12" fill="{COLORS[j % len(COLORS)]}"/>')
        out.append(f'<text x="{272 + 90 * j}" y="{legend_y}">exit {k}</text>')
    out.append("</svg>")
    return "".join(out)


ESTIMATES = "Counts are estimates"


def report(out_dir, results, catalog, durations, sampled=False):
    runs = [(r["command"], int(r["runs"])) for r in results["01_runs_per_command.sql"]]
    never = defaultdict(list)
    for r in results["03_never_used_options.sql"]:
        never[r["command"]].append(r["option"])
    option_sections = []
    usage = defaultdict(list)
    for r in results["02_option_usage.sql"]:
        usage[r["command"]].append((r["option"], int(r["runs"])))
    for cmd, _ in runs:
        items = usage[cmd] + [(o, 0) for o in never[cmd]]
        hl = {o: "#d1d5db" for o in never[cmd]}
        note = (f'<p class=never>never used: {", ".join("--" + o for o in never[cmd])}</p>'
                if never[cmd] else "")
        option_sections.append(
            f"<div><h3>{html.escape(cmd)}</h3>{bars(items, 260, highlight=hl, label_width=150)}{note}</div>")
    bv = {(r["version"], int(r["exit_code"])): int(r["runs"]) for r in results["06_exit_codes_by_version.sql"]}
    versions = sorted({v for v, _ in bv})
    codes = sorted({k for _, k in bv})
    dur_rows = "".join(
        f"<tr><td>{html.escape(r['command'])}</td><td>{r['runs']}</td><td>{r['p50_ms']}</td>"
        f"<td>{r['p90_ms']}</td><td>{r['p99_ms']}</td><td>{r['max_ms']}</td></tr>"
        for r in results["07_duration_percentiles.sql"])
    p90 = [(r["command"], int(r["p90_ms"])) for r in results["07_duration_percentiles.sql"]]
    fails = "".join(
        f"<tr><td>{html.escape(r['command'])}</td><td>{r['runs']}</td><td>{r['failed']}</td>"
        f"<td>{float(r['failure_rate']) * 100:.0f}%</td><td>{', '.join(str(x) for x in r['exit_codes'])}</td></tr>"
        for r in results["05_failures_by_command.sql"])
    never_cmds = ", ".join(html.escape(r["command"]) for r in results["04_never_used_commands.sql"]) or "none"
    agents = [(r["agent"] or "(none told)", int(r["processes"])) for r in results["11_runs_by_agent.sql"]]
    categories = "".join(
        f"<tr><td>{html.escape(r['command'])}</td><td>{html.escape(r['category'] or '(none)')}</td>"
        f"<td>{r['failed']}</td><td>{', '.join(str(x) for x in r['exit_codes'])}</td></tr>"
        for r in results["12_failures_by_category.sql"])
    containers = "".join(
        f"<tr><td>{html.escape(r['container'] or '(none)')}</td><td>{r['installations']}</td>"
        f"<td>{r['processes']}</td><td>{r['processes_per_installation']}</td></tr>"
        for r in results["13_installations_in_containers.sql"])
    interrupted = "".join(
        f"<tr><td>{html.escape(r['command'])}</td><td>{html.escape(r['version'])}</td><td>{r['runs']}</td>"
        f"<td>{r['interrupted']}</td><td>{float(r['interrupted_rate']) * 100:.0f}%</td></tr>"
        for r in results["10_interrupted_runs.sql"]) or "<tr><td colspan=5>none</td></tr>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>werf usage report</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 28px 40px; color: #111827; max-width: 1180px; }}
h1 {{ font-size: 24px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #e5e7eb; }}
h3 {{ font-size: 14px; margin: 10px 0 2px; }} .sub {{ color: #6b7280; }} svg text {{ font-size: 12px; fill: #111827; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 3px 12px; border-bottom: 1px solid #f3f4f6; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} .never {{ color: #9ca3af; margin: 0 0 6px 156px; }}
.estimate {{ background: #fef3c7; padding: 4px 10px; border-radius: 4px; display: inline-block; }}
.grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 0 30px; }}
</style></head><body>
<h1>werf — usage report</h1>
<div class=sub>last 30 days · from <code>otel_traces</code> (collector → ClickHouse) and the command catalog ·
queries in examples/backend/queries/</div>
{f'<p class=estimate>{ESTIMATES}: some runs were sampled, and each event kept stands for 1/sampleRate runs (installations and projects are distinct ids seen: a lower bound).</p>' if sampled else ''}
<h2>Runs per command</h2>{bars(runs, unit="")}
<h2>Options per command <span class=sub>(grey: in the catalog, never used)</span></h2>
<div class=grid>{''.join(option_sections)}</div>
<p class=sub>Commands never run: {never_cmds}</p>
<h2>Exit codes by version</h2>{stacked(versions, codes, bv)}
<div class=grid><div><h2>Failures by command</h2><table><tr><th>command</th><th>runs</th><th>failed</th><th>rate</th><th>exit codes</th></tr>{fails}</table></div>
<div><h2>Duration (ms)</h2><table><tr><th>command</th><th>runs</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>{dur_rows}</table>
<h3>p90 (ms)</h3>{bars(p90, 220, unit=" ms", color="#ea580c", label_width=150)}</div></div>
<div class=grid><div><h2>Runs by agent <span class=sub>(attributes.agent)</span></h2>{bars(agents, 220, color="#9333ea", label_width=150)}</div>
<div><h2>Failures by category <span class=sub>(eventData.errorCategory)</span></h2><table><tr><th>command</th><th>category</th><th>failed</th><th>exit codes</th></tr>{categories}</table></div></div>
<h2>Installations, containers apart <span class=sub>(werf-wire; an ephemeral container is a new id per start)</span></h2>
<table><tr><th>container</th><th>installations</th><th>processes</th><th>per installation</th></tr>{containers}</table>
<h2>Interrupted or killed <span class=sub>(CommandStarted without CommandExited: no exit code, so not among the failures above)</span></h2>
<table><tr><th>command</th><th>version</th><th>runs</th><th>interrupted</th><th>rate</th></tr>{interrupted}</table>
</body></html>"""
    with open(os.path.join(out_dir, "report.html"), "w") as f:
        f.write(page)


if __name__ == "__main__":
    sys.exit(main())
