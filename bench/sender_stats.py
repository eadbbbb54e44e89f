#!/usr/bin/env python3
"""What the detached sender costs after the exit (bench/network.sh, SPEC P-7):

- the time from the run's exit to the last of its events arriving at the receiver;
- the sender's CPU time (user + system) and peak memory (max RSS) per drain: this script
  makes itself a child subreaper, so the orphaned sender becomes its child and wait4()
  returns its resource usage;
- the hand-off's own cost as the run logs it (`handOffUs`: locks, a start token, the fork);
- and, for scale, a posix_spawn of /bin/true on this machine (the floor P-7 names).

    sender_stats.py --werf BIN --receiver-log FILE --runs N [--env K=V ...] --out JSON

The receiver's log has one line per request: `<unix ms> <bytes> <spans>`.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36


def lines(path):
    try:
        return [l.split() for l in open(path) if l.strip()]
    except OSError:
        return []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--werf", required=True)
    p.add_argument("--receiver-log", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--out", required=True)
    a = p.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("sender_stats.py: prctl(PR_SET_CHILD_SUBREAPER) failed")
    home = tempfile.mkdtemp(prefix="sender-stats-")
    log = os.path.join(home, "t.log")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "WERF_TELEMETRY": "1",
        "WERF_TELEMETRY_LOG_FILE": log,
    }
    for kv in a.env:
        k, v = kv.split("=", 1)
        env[k] = v
    latencies, cpu, rss = [], [], []
    for _ in range(a.runs):
        before = len(lines(a.receiver_log))
        proc = subprocess.Popen(
            [a.werf, "helm", "get-release", "--namespace", "n"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        # Reap the run, then its sender (an orphan, now this subreaper's child).
        _, _, _ = os.wait4(proc.pid, 0)
        exited = time.time() * 1000
        deadline = time.time() + 15
        spans = 0
        while time.time() < deadline and spans < 2:
            new = lines(a.receiver_log)[before:]
            spans = sum(int(l[2]) for l in new if len(l) > 2 and l[2].isdigit())
            time.sleep(0.002)
        if spans >= 2:
            latencies.append(max(int(l[0]) for l in lines(a.receiver_log)[before:]) - exited)
        try:
            pid, status, usage = os.wait4(-1, 0)
            cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
            rss.append(usage.ru_maxrss / 1024)  # KiB → MiB
        except ChildProcessError:
            pass
        time.sleep(0.05)
    hand_off = []
    for l in open(log):
        d = json.loads(l)
        if "handOffUs" in d and d.get("senderPid"):
            hand_off.append(d["handOffUs"] / 1000)
    spawns = []
    for _ in range(50):
        t = time.perf_counter()
        pid = os.posix_spawn("/bin/true", ["true"], {})
        spawned = time.perf_counter()
        os.waitpid(pid, 0)
        spawns.append((spawned - t) * 1000)
    med = lambda xs: round(statistics.median(xs), 2) if xs else None
    result = {
        "runs": a.runs,
        "delivered_runs": len(latencies),
        "exit_to_last_event_ms": med(latencies),
        "exit_to_last_event_max_ms": round(max(latencies), 1) if latencies else None,
        "sender_cpu_ms": med(cpu),
        "sender_peak_rss_mib": med(rss),
        "senders_reaped": len(cpu),
        "hand_off_ms": med(hand_off),
        "posix_spawn_true_ms": med(spawns),
    }
    json.dump(result, open(a.out, "w"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
