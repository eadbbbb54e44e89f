#!/usr/bin/env python3
"""Turns the raw outputs of bench/e2e.sh, bench/footprint.sh and bench/micro.sh into
markdown tables (bench/results/*.md). Standard library only.

    report.py e2e WORK_DIR OUT.md
    report.py footprint WORK_DIR OUT.md
    report.py micro CRITERION_DIR COLD_JSON OUT.md
    report.py network WORK_DIR OUT.md
"""
import json
import os
import sys

DEADLINE_MS = 1300.0


def read_meta(work):
    """meta.txt: one `key=value` per line."""
    meta = {}
    path = os.path.join(work, "meta.txt")
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def cpu_busy(work, group):
    try:
        a = [int(x) for x in open(os.path.join(work, "json", group + ".start.stat")).read().split()[1:]]
        b = [int(x) for x in open(os.path.join(work, "json", group + ".end.stat")).read().split()[1:]]
    except OSError:
        return None
    d = [y - x for x, y in zip(a, b)]
    idle = d[3] + d[4]
    total = sum(d[:8])
    return 100.0 * (total - idle) / total if total else None


def e2e(work, out):
    meta = read_meta(work)
    results = {}
    groups = {}
    for group in ("fast", "delay", "hole"):
        path = os.path.join(work, "json", group + ".json")
        if not os.path.exists(path):
            continue
        for r in json.load(open(path))["results"]:
            results[r["command"]] = r
            groups[r["command"]] = group
    runs = {}
    for part in meta.get("runs", "").split():
        k, v = part.split(":")
        runs[k] = int(v)
    warmup = runs.get("warmup", 0)
    logs = {
        "on, healthy": "healthy_ours", "on, 200 ms": "delay_ours", "on, black hole": "blackhole_ours",
        "peer, healthy": "healthy_peer", "peer, 200 ms": "delay_peer", "peer, black hole": "blackhole_peer",
    }
    base = results["uninstrumented"]["median"] * 1000
    healthy = {w: results[n]["median"] * 1000 for w, n in (("on", "on, healthy"), ("peer", "peer, healthy")) if n in results}

    def target(name, med):
        who = "peer" if name.startswith("peer") else "on"
        d = med - base
        if name in ("off", "peer, off"):
            return "P-1: indistinguishable (|Δ| ≤ 0.1 ms)", abs(d) <= 0.1
        if name.endswith("healthy"):
            return "P-3: Δ ≤ 3 ms", d <= 3.0
        if name.endswith("refused"):
            return "P-4: ≤ healthy + 0.5 ms", med <= healthy.get(who, med) + 0.5
        if name.endswith("200 ms"):
            return "P-4: one 200 ms round trip, not two (Δ ≤ 210 ms)", d <= 210.0
        if name.endswith("black hole") or name.endswith("SYN dropped"):
            return "P-4: ≤ deadline + 20 ms (1320 ms)", med <= DEADLINE_MS + 20
        return "", None

    order = [
        "uninstrumented", "off", "on, healthy", "on, refused", "on, 200 ms", "on, black hole", "on, SYN dropped",
        "peer, SDK not built", "peer, off", "peer, healthy", "peer, refused", "peer, 200 ms", "peer, black hole",
        "peer, SYN dropped",
    ]
    lines = []
    lines.append("| row | median ms | ratio to uninstrumented | Δ ms | mean ± σ ms | min–max ms | runs | requests/run | target | met |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|:-:|")
    for name in order:
        r = results.get(name)
        if r is None:
            continue
        med = r["median"] * 1000
        n = len(r["times"])
        req = ""
        if name in logs:
            path = os.path.join(work, "logs", logs[name] + ".log")
            if os.path.exists(path):
                count = sum(1 for _ in open(path))
                req = "%.2f" % (count / float(n + warmup))
        t, ok = target(name, med)
        mark = "" if ok is None else ("yes" if ok else "**no**")
        label = name if not name.startswith(("on", "off")) else "ours, " + name
        lines.append(
            "| %s | %.2f | %.2f× | %+.2f | %.2f ± %.2f | %.2f–%.2f | %d | %s | %s | %s |"
            % (label, med, med / base, med - base, r["mean"] * 1000, (r.get("stddev") or 0.0) * 1000, r["min"] * 1000,
               r["max"] * 1000, n, req, t, mark)
        )
    busy = ", ".join(
        "%s %.0f%%" % (g, b) for g in ("fast", "delay", "hole") for b in [cpu_busy(work, g)] if b is not None
    )
    head = [
        "# Whole-process benchmark (bench/e2e.sh)",
        "",
        "`werf helm get-release --namespace n`, hyperfine -N, medians. Machine: %s, %s cores, Linux %s; %s."
        % (meta.get("cpu", "?"), meta.get("cores", "?"), meta.get("kernel", "?"), meta.get("rustc", "?")),
        "Commit %s (%s tracked files modified). Load average before/after: %s / %s; CPU busy (all cores, this"
        " benchmark included) during the groups: %s." % (meta.get("commit", "?"), meta.get("dirty", "?"),
                                                      meta.get("loadavg_before", "?"), meta.get("loadavg_after", "?"), busy),
        "Ratios and Δ are against the uninstrumented mini-werf (the example built with the `telemetry` feature"
        " off). requests/run: requests the row's own receiver got per run (warm-up runs included): 1.00 = both"
        " spans in one request.",
        "",
    ]
    text = "\n".join(head + lines) + "\n"
    open(out, "w").write(text)
    print(text)


def footprint(work, out):
    rows = json.load(open(os.path.join(work, "footprint.json")))
    meta = read_meta(work)
    by = {r["name"]: r for r in rows}

    def added(r, key):
        base = by.get(r["baseline"]) if r.get("baseline") else None
        return None if base is None else sorted(set(r[key]) - set(base[key]))

    lines = [
        "# Footprint (bench/footprint.sh)",
        "",
        "Machine: %s, %s cores; %s. Commit %s (%s tracked files modified); build jobs -j%s; load average after: %s."
        % (meta.get("cpu", "?"), meta.get("cores", "?"), meta.get("rustc", "?"), meta.get("commit", "?"),
           meta.get("dirty", "?"), meta.get("jobs", "?"), meta.get("loadavg_after", "?")),
        "",
        "Each side is the same mini-werf command tree built with and without its telemetry (ours: bench/user ="
        " examples/werf.rs as an application, `--no-default-features` turns the facade's `telemetry` feature off;"
        " peer: bench/peer, `--no-default-features` drops the OpenTelemetry crates). Sizes after `strip`."
        " Crates: unique `name version` lines of `cargo tree --prefix none --no-dedupe -e normal` (linked) and"
        " `-e normal,build` (everything compiled, build scripts' dependencies included), host target; *added* ="
        " crates not in the same side's uninstrumented build. Clean build: wall time of `cargo build --release -j2`"
        " in a fresh CARGO_TARGET_DIR with the registry already fetched.",
        "",
        "| build | stripped size | growth | crates linked | added | crates compiled | added | clean build s | added s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        base = by.get(r["baseline"]) if r.get("baseline") else None
        grow = "" if base is None else "+%.2f MB" % ((r["size"] - base["size"]) / 1e6)
        a1, a2 = added(r, "crates"), added(r, "crates_build")
        bs = r.get("build_s")
        badd = "" if base is None or bs is None or base.get("build_s") is None else "%+.0f" % (bs - base["build_s"])
        lines.append(
            "| %s | %.2f MB | %s | %d | %s | %d | %s | %s | %s |"
            % (r["name"], r["size"] / 1e6, grow, len(r["crates"]), "" if a1 is None else len(a1),
               len(r["crates_build"]), "" if a2 is None else len(a2), "" if bs is None else "%.0f" % bs, badd)
        )
    ours, peer = by.get("ours"), by.get("peer")
    if ours and peer:
        og = ours["size"] - by[ours["baseline"]]["size"]
        pg = peer["size"] - by[peer["baseline"]]["size"]
        lines += ["", "P-5 checks:", ""]
        lines.append("- binary growth ours/peer = %.2f (target ≤ 0.5): %s" % (og / pg, "met" if og <= 0.5 * pg else "**missed**"))
        if ours.get("build_s") and peer.get("build_s"):
            r = ours["build_s"] / peer["build_s"]
            lines.append("- clean build ours/peer = %.2f (target ≤ 0.6): %s" % (r, "met" if r <= 0.6 else "**missed**"))
        lines.append("- crates compiled ours %d vs peer %d; linked %d vs %d (target: fewer): %s"
                     % (len(ours["crates_build"]), len(peer["crates_build"]), len(ours["crates"]), len(peer["crates"]),
                        "met" if len(ours["crates_build"]) < len(peer["crates_build"]) else "**missed**"))
        for r in (ours, peer):
            a = added(r, "crates_build")
            lines += ["", "Crates %s adds (%d): %s" % (r["name"], len(a), ", ".join(c.split(" ")[0] for c in a))]
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)
    print(text)


def micro(crit, cold, out):
    def est(group, bench):
        path = os.path.join(crit, group, bench.replace("/", "_"), "new", "estimates.json")
        e = json.load(open(path))
        return e["median"]["point_estimate"], e["mean"]["point_estimate"]

    meta = {}
    mpath = os.path.join(os.path.dirname(cold), "micro-meta.txt") if cold else ""
    if mpath and os.path.exists(mpath):
        for line in open(mpath):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    lines = [
        "# Micro-benchmarks (bench/micro.sh: criterion, benches/)",
        "",
        "Machine: %s, %s cores; %s. Commit %s (%s tracked files modified). Load average before/after: %s / %s."
        % (meta.get("cpu", "?"), meta.get("cores", "?"), meta.get("rustc", "?"), meta.get("commit", "?"),
           meta.get("dirty", "?"), meta.get("loadavg_before", "?"), meta.get("loadavg_after", "?")),
        "",
        "## P-1: telemetry off, instrumented handler vs the same plain function (target ≤ 20 ns added)",
        "",
        "| situation | handler | plain ns | instrumented ns | added ns | met |",
        "|---|---|---:|---:|---:|:-:|",
    ]
    for group, label in (("p1_not_installed", "not installed"), ("p1_installed_off", "installed, switched off")):
        for kind, klabel in (("unit", "`fn(&str)`"), ("result", "`fn(u64) -> Result`")):
            try:
                p, _ = est(group, kind + "/plain")
                i, _ = est(group, kind + "/instrumented")
            except OSError:
                continue
            lines.append("| %s | %s | %.2f | %.2f | %+.2f | %s |" % (label, klabel, p, i, i - p, "yes" if i - p <= 20 else "**no**"))
    lines += [
        "",
        "## P-2: telemetry on, sender present, handler's thread before the body starts (target ≤ 50 µs)",
        "",
        "| measure | median µs | mean µs | met |",
        "|---|---:|---:|:-:|",
    ]
    try:
        m, mean = est("p2_warm", "call_to_body")
        lines.append("| warm: call → first line of body (sender thread running, idle) | %.1f | %.1f | %s |" % (m / 1e3, mean / 1e3, "yes" if m <= 50e3 else "**no**"))
        m, mean = est("p2_warm", "call_to_body_back_to_back")
        lines.append("| warm, back to back: the same while the previous call's background work still runs | %.1f | %.1f | %s |" % (m / 1e3, mean / 1e3, "yes" if m <= 50e3 else "**no**"))
        m, mean = est("p2_warm", "body_to_return")
        lines.append("| warm: last line of body → back in caller (CommandExited + flush = waits for delivery; informative) | %.1f | %.1f | |" % (m / 1e3, mean / 1e3))
    except OSError:
        pass
    if cold and os.path.exists(cold):
        c = json.load(open(cold))
        lines += [
            "",
            "Cold: a fresh process per sample (%d processes), its first and only command — what every CLI run pays:" % c["runs"],
            "",
            "| measure (main thread) | median µs | p90 µs | met |",
            "|---|---:|---:|:-:|",
            "| `Telemetry::install()` (before the command) | %.1f | %.1f | |" % (c["install"]["median_ns"] / 1e3, c["install"]["p90_ns"] / 1e3),
            "| `cli_telemetry::parse_from` incl. recording the invocation | %.1f | %.1f | |" % (c["parse_and_record"]["median_ns"] / 1e3, c["parse_and_record"]["p90_ns"] / 1e3),
            "| call → first line of body (P-2; starts the sender thread) | %.1f | %.1f | %s |" % (c["call_to_body"]["median_ns"] / 1e3, c["call_to_body"]["p90_ns"] / 1e3, "yes" if c["call_to_body"]["median_ns"] <= 50e3 else "**no**"),
            "| last line of body → back in caller (incl. flush: one loopback delivery) | %.1f | %.1f | |" % (c["body_to_return"]["median_ns"] / 1e3, c["body_to_return"]["p90_ns"] / 1e3),
        ]
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)
    print(text)


def network(work, out):
    meta = read_meta(work)
    groups = [
        ("loopback", "no-op, healthy receiver on loopback (http)"),
        ("rtt50", "no-op, https with a private CA, 50 ms round trip"),
        ("work500", "command working 500 ms, https, 50 ms round trip"),
        ("rtt300", "no-op, https with a private CA, 300 ms round trip"),
        ("delay200", "no-op, endpoint answering after 200 ms"),
        ("blackhole", "no-op, black hole (accepts, never answers)"),
        ("nodns", "no-op, a host name whose DNS never answers"),
    ]
    med = {}
    lines = [
        "# Exit cost at real and broken network conditions (bench/network.sh)",
        "",
        f"`werf helm get-release --namespace n`, hyperfine -N, medians of {meta.get('runs')} runs "
        f"({meta.get('runs_slow')} for the slow groups), all rows of a group side by side in one run. "
        f"off: telemetry off (`WERF_TELEMETRY=0`); detached, inline: `WERF_TELEMETRY_DELIVERY`; "
        f"peer: the OpenTelemetry SDK peer (bench/peer). Machine: {meta.get('cpu', '?')}, "
        f"{meta.get('cores', '?')} cores; {meta.get('rustc', '')}. Commit {meta.get('commit')} "
        f"({meta.get('dirty')} tracked files modified); load average after: {meta.get('loadavg')}.",
        "",
        "| condition | row | median ms | Δ to off ms | mean ± σ ms | min–max ms | runs |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    present = []
    for group, label in groups:
        path = os.path.join(work, "json", group + ".json")
        if not os.path.exists(path):
            continue
        present.append((group, label))
        results = json.load(open(path))["results"]
        for r in results:
            med[(group, r["command"])] = r["median"] * 1000
        base = med[(group, "off")]
        busy = cpu_busy(work, group)
        for r in results:
            ms = r["median"] * 1000
            lines.append(
                f"| {label} | {r['command']} | {ms:.1f} | {ms - base:+.1f} | {r['mean'] * 1000:.1f} ± "
                f"{r['stddev'] * 1000:.1f} | {r['min'] * 1000:.1f}–{r['max'] * 1000:.1f} | {len(r['times'])} |"
            )
        if busy is not None:
            lines.append(f"| {label} | *(CPU busy during the group: {busy:.0f}%)* | | | | | |")
    lines += ["", "Requests each receiver got over all runs (warm-ups and the checks below included; "
              "spans counted for the https receivers' JSON bodies, the peer's are protobuf):", ""]
    counts = sorted(k for k in meta if k.startswith("requests_"))
    for k in counts:
        name = k[len("requests_"):]
        spans = f", {meta.get('spans_' + name)} spans" if name.startswith("rtt") and not name.endswith("peer") else ""
        lines.append(f"- {name}: {meta[k]} requests{spans}")
    lines += ["", "## P-7: the detached exit (target: detached − off ≤ 2 ms in every condition)", ""]
    lines += ["| condition | detached − off ms | inline − off ms | peer − off ms | met |", "|---|---:|---:|---:|---|"]
    all_met = True
    for group, label in present:
        d = med[(group, "detached")] - med[(group, "off")]
        i = med[(group, "inline")] - med[(group, "off")]
        p = med[(group, "peer")] - med[(group, "off")]
        ok = d <= 2.0
        all_met &= ok
        lines.append(f"| {label} | {d:+.1f} | {i:+.1f} | {p:+.1f} | {'yes' if ok else '**no**'} |")
    if meta.get("nodns") != "yes":
        lines.append("| a host name whose DNS never answers | — | — | — | not run (needs root and `ip netns`) |")
    lines.append("")
    lines.append(f"P-7 over all conditions: {'met' if all_met else '**not met**'}.")
    for name, label in (("stats_rtt50", "50 ms round trip"), ("stats_rtt300", "300 ms round trip")):
        path = os.path.join(work, "json", name + ".json")
        if not os.path.exists(path):
            continue
        st = json.load(open(path))
        lines += [
            "",
            f"After the exit, https with a private CA, {label} ({st['runs']} runs, one at a time; "
            f"bench/sender_stats.py):",
            "",
            f"- exit → last event delivered: median {st['exit_to_last_event_ms']} ms, max "
            f"{st['exit_to_last_event_max_ms']} ms ({st['delivered_runs']} of {st['runs']} runs delivered)",
            f"- the sender's CPU time per drain: median {st['sender_cpu_ms']} ms; peak RSS "
            f"{st['sender_peak_rss_mib']} MiB ({st['senders_reaped']} senders measured)",
            f"- the hand-off (locks, start token, fork) in the run: median {st['hand_off_ms']} ms, off "
            f"the exit's path when the command outlasts it; a posix_spawn of /bin/true here: "
            f"{st['posix_spawn_true_ms']} ms",
        ]
    if ("rtt50", "uninstrumented") in med:
        noop_ok = med[("rtt50", "inline")] <= med[("rtt50", "peer")]
        added = med[("work500", "inline")] - med[("work500", "uninstrumented")]
        lines += [
            "",
            "## P-6 (inline, as before)",
            "",
            f"- no-op at 50 ms: inline {med[('rtt50', 'inline')]:.1f} ms vs peer {med[('rtt50', 'peer')]:.1f} ms "
            f"(target: ours ≤ peer): {'met' if noop_ok else '**not met**'}; detached {med[('rtt50', 'detached')]:.1f} ms",
            f"- 500 ms command: inline adds {added:.1f} ms at exit (target ≤ one round trip + 5 ms = 55 ms): "
            f"{'met' if added <= 55 else '**not met**'}; detached adds "
            f"{med[('work500', 'detached')] - med[('work500', 'uninstrumented')]:.1f} ms",
        ]
    lines.append("")
    open(out, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "e2e":
        e2e(sys.argv[2], sys.argv[3])
    elif mode == "footprint":
        footprint(sys.argv[2], sys.argv[3])
    elif mode == "network":
        network(sys.argv[2], sys.argv[3])
    elif mode == "micro":
        micro(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: report.py e2e|footprint|micro ...")
