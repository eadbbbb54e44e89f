#!/usr/bin/env python3
"""Black-box cases of the cross-built mini-werf under Wine (SPEC "Platforms"):

debug events, inline delivery, the detached sender delivering after the exit (spawned with
CreateProcessW, CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP, no inherited handle), and the
lasting choice under %APPDATA%. A receiver on 127.0.0.1 records what arrives.

Usage: cases.py path/to/werf.exe
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

EXE = os.path.abspath(sys.argv[1])
received = []
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        spans = json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]
        with lock:
            for span in spans:
                attrs = {a["key"]: a["value"] for a in span["attributes"]}
                received.append(
                    (attrs["executionID"]["stringValue"], attrs["eventType"]["stringValue"])
                )
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"

work = tempfile.mkdtemp(prefix="cli-telemetry-wine-")
BASE = {
    "PATH": os.environ["PATH"],
    "HOME": os.environ.get("HOME", work),
    "WINEPREFIX": os.path.join(work, "prefix"),
    "WINEDEBUG": "-all",
}


def win(path):
    return "Z:" + path.replace("/", "\\")


def werf(*args, **env):
    full = dict(BASE, **env)
    return subprocess.run(
        ["wine", EXE, *args], env=full, capture_output=True, text=True, timeout=120
    )


def log_lines(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def wait_for(n, limit=30):
    start = time.time()
    while time.time() - start < limit:
        with lock:
            if len(received) >= n:
                return True
        time.sleep(0.1)
    return False


# The prefix is made on the first start (several seconds): a run without telemetry.
first = werf("version")
check(first.returncode == 0 and first.stdout.strip().startswith("werf v"), "werf.exe runs")

# 1. Debug mode: two events on stderr, nothing sent.
run = werf("converge", "--repo", "x", WERF_TELEMETRY="1", WERF_TELEMETRY_DEBUG="1")
events = [json.loads(l) for l in run.stderr.splitlines() if l.startswith("{")]
check(run.returncode == 0, "debug: exit code 0")
check(run.stdout == "converge: deploying 5 task(s) in parallel\n", "debug: stdout unchanged")
check(
    [e["eventType"] for e in events] == ["CommandStarted", "CommandExited"],
    "debug: CommandStarted and CommandExited on stderr",
)
check(events[0]["attributes"]["os"] == "windows", "debug: os is windows")

# 2. Inline: delivered before the exit.
log = os.path.join(work, "inline.log")
run = werf(
    "converge", "--repo", "x",
    WERF_TELEMETRY="1", WERF_TELEMETRY_DELIVERY="inline",
    WERF_TELEMETRY_TRACE_URL=URL, WERF_TELEMETRY_LOG_FILE=win(log),
)
check(run.returncode == 0, "inline: exit code 0")
with lock:
    check(len(received) == 2, "inline: two events arrived before the exit")
delivered = [l for l in log_lines(log) if l.get("message") == "event delivered"]
check(len(delivered) == 2, "inline: two fates in the log file")

# 3. Detached (the default with #[cli_telemetry::main]): delivered after the exit by the
# sender process.
log = os.path.join(work, "detached.log")
run = werf(
    "converge", "--repo", "x",
    WERF_TELEMETRY="1", WERF_TELEMETRY_TRACE_URL=URL, WERF_TELEMETRY_LOG_FILE=win(log),
)
check(run.returncode == 0 and run.stderr == "", "detached: exit code 0, nothing on stderr")
handed = [l for l in log_lines(log) if "events queued for the detached sender" in l.get("message", "")]
check(len(handed) == 1, "detached: the queue was handed to a sender")
check(wait_for(4), "detached: two more events arrived after the exit")
ids = {e["executionID"] for e in log_lines(log) if "eventType" in e}
with lock:
    check(sorted(k for k in received if k[0] in ids) == sorted(
        (e["executionID"], e["eventType"]) for e in log_lines(log) if "eventType" in e
    ), "detached: each event once")
start = time.time()
while time.time() - start < 30:
    fates = [l for l in log_lines(log) if l.get("by") == "detached sender"]
    if len(fates) == 2:
        break
    time.sleep(0.1)
check(len(fates) == 2, "detached: the sender wrote both fates to the log file")
check(any(l.get("message") == "detached sender started" for l in log_lines(log)), "detached: the sender said it started")

# 4. The lasting choice under %APPDATA% (Wine sets it to the prefix's profile).
appdata = subprocess.run(
    ["wine", "cmd", "/c", "echo", "%APPDATA%"], env=BASE, capture_output=True, text=True
).stdout.strip()
check(appdata.lower().startswith("c:\\"), f"%APPDATA% is {appdata}")
unix_appdata = os.path.join(BASE["WINEPREFIX"], "drive_c", *appdata[3:].split("\\"))
choice = os.path.join(unix_appdata, "werf", "telemetry.json")
run = werf("telemetry", "disable")
check(run.returncode == 0 and "off from now on" in run.stdout, "choice: disable says so")
check(json.load(open(choice)).get("enabled") is False, "choice: kept in %APPDATA%\\werf\\telemetry.json")
log = os.path.join(work, "off.log")
before = len(received)
run = werf(
    "converge", "--repo", "x",
    WERF_TELEMETRY="1", WERF_TELEMETRY_DELIVERY="inline",
    WERF_TELEMETRY_TRACE_URL=URL, WERF_TELEMETRY_LOG_FILE=win(log),
)
check(run.returncode == 0 and not os.path.exists(log), "choice: off wins over WERF_TELEMETRY=1")
status = werf("telemetry", "status", "--json", WERF_TELEMETRY="1")
decided = json.loads(status.stdout)["decidedBy"]
check(decided["setting"] == "file" and decided["on"] is False, "choice: status names the file")
run = werf("telemetry", "reset")
check(run.returncode == 0 and not os.path.exists(choice), "choice: reset removes it")
with lock:
    check(len(received) == before, "choice: nothing was sent while off")

subprocess.run(["wineserver", "-k"], env=dict(BASE), check=False)
shutil.rmtree(work, ignore_errors=True)
print("Windows cases under Wine: all passed")
