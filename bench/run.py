"""Orchestrates bench/run: every client against one sandbox process."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / "target" / "bench-venv" / "bin" / "python"
SECONDS = float(os.environ.get("BENCH_SECONDS", "1.5"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BODY = '{"RegistrationID":"AOP-554","ProductID":518,"Amount":10,"Geocode":"23.6784,76.8764","CustomerNumber":9876543210}'


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(ROOT / "target/release/aopay"), "sandbox", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split()[-1]
    subprocess.Popen(["cat"], stdin=proc.stdout, stdout=subprocess.DEVNULL)  # keep draining
    return proc, url


def lines(cmd: list[str], cwd: Path = ROOT) -> list[dict[str, object]]:
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def wrk(url: str) -> list[dict[str, object]]:
    script = ROOT / "target" / "bench-post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = '{BODY}'\n"
    )
    out = []
    for _ in range(RUNS):
        text = subprocess.run(
            ["wrk", "-t2", "-c64", f"-d{max(2, int(SECONDS))}s", "-s", str(script), url + "/api/AOP/V2/MobileRecharge"],
            check=True, capture_output=True, text=True,
        ).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", text)
        if m:
            out.append({"client": "sandbox (wrk)", "mode": "c64", "calls_per_sec": float(m.group(1))})
    return out


def import_time() -> dict[str, float]:
    def median_ms(code: str) -> float:
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            subprocess.run([str(PY), "-c", code], check=True)
            samples.append((time.perf_counter() - t) * 1000)
        return statistics.median(samples)

    base = median_ms("pass")
    return {m: round(median_ms(f"import {m}") - base, 1) for m in ("aopay", "requests", "httpx", "aiohttp")}


def memory_after_1000_calls(url: str) -> dict[str, float]:
    code = """
import resource, sys
url = sys.argv[1]
if sys.argv[2] == "aopay":
    import aopay
    c = aopay.Client(registration_id="AOP-554", base_url=url)
    call = lambda: c.mobile_recharge(product_id=518, amount=10, customer_number="9876543210", geocode="23.6784,76.8764")
else:
    import requests
    s = requests.Session()
    body = {"RegistrationID": "AOP-554", "ProductID": 518, "Amount": 10, "Geocode": "23.6784,76.8764", "CustomerNumber": 9876543210}
    call = lambda: s.post(url + "/api/AOP/V2/MobileRecharge", json=body).json()
for _ in range(1000):
    call()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    return {
        lib: round(float(subprocess.run([str(PY), "-c", code, url, lib], check=True, capture_output=True, text=True).stdout), 1)
        for lib in ("aopay", "requests")
    }


def journal_overhead(bench: str, url: str) -> dict[str, float]:
    """Sequential keyed recharges (a fresh key each) against plain ones: the
    journal's cost per recharge, in microseconds."""
    env = dict(os.environ)
    try:
        env["AOPAY_BENCH_POSTGRES"] = subprocess.run(
            [str(ROOT / "scripts/postgres")], check=True, capture_output=True, text=True
        ).stdout.strip()
        clients = ["aopay", "aopay+sqlite", "aopay+postgres"]
    except (OSError, subprocess.CalledProcessError):
        clients = ["aopay", "aopay+sqlite"]
    samples: dict[str, list[float]] = {c: [] for c in clients}
    for _ in range(3):
        for c in clients:
            out = subprocess.run([bench, url, c, "seq", str(SECONDS), "1"], check=True, capture_output=True, text=True, env=env).stdout
            samples[c].extend(json.loads(l)["calls_per_sec"] for l in out.splitlines() if l.startswith("{"))
    med = {c: statistics.median(v) for c, v in samples.items()}
    result = {f"{c}_calls_per_sec": round(v, 1) for c, v in med.items()}
    for c in clients[1:]:
        result[f"{c.split('+')[1]}_overhead_us"] = round(1e6 / med[c] - 1e6 / med["aopay"], 1)
    return result


def summarize(rows: list[dict[str, object]]) -> dict[tuple[str, str], dict[str, float]]:
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((str(r["client"]), str(r["mode"])), []).append(float(r["calls_per_sec"]))  # type: ignore[arg-type]
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": len(v)} for k, v in groups.items()}


COMPARISONS = [
    ("Rust", "seq", "aopay-core", ["reqwest", "aopay-core+on_call", "aopay-core+hs256", "aopay-core+rs256"]),
    ("Rust", "c64", "aopay-core", ["reqwest", "aopay-core+on_call", "aopay-core+hs256", "aopay-core+rs256"]),
    ("Python", "seq", "aopay.Client", ["requests.Session", "httpx.Client", "reqwest", "aopay.Client+on_call"]),
    ("Python", "c64", "aopay.AsyncClient", ["aiohttp", "httpx.AsyncClient", "aopay.AsyncClient+on_call"]),
    ("Node", "seq", "aopay.Client", ["fetch", "undici.request", "aopay.Client+onCall"]),
    ("Node", "c64", "aopay.Client", ["fetch", "undici.request", "aopay.Client+onCall"]),
]


def main() -> None:
    sandbox, url = start_sandbox()
    rows: list[dict[str, object]] = []
    try:
        bench = str(ROOT / "target/release/aopay-bench")
        # Interleaved, one run per process, so that neither client always
        # meets the sandbox later (with more transactions stored).
        for mode in ("seq", "c64"):
            for _ in range(RUNS):
                for client in ("aopay", "aopay+on_call", "aopay+hs256", "aopay+rs256", "reqwest"):
                    for r in lines([bench, url, client, mode, str(SECONDS), "1"]):
                        r["client"] = client.replace("aopay", "aopay-core", 1)
                        r["lang"] = "Rust"
                        rows.append(r)
        journal_rows = journal_overhead(bench, url)
        for r in lines([str(PY), str(ROOT / "bench/python_bench.py"), url, str(SECONDS), str(RUNS)]):
            r["lang"] = "Python"
            rows.append(r)
        for r in lines(["node", "node_bench.mjs", url, str(SECONDS), str(RUNS)], cwd=ROOT / "bench"):
            r["lang"] = "Node"
            rows.append(r)
        try:
            for r in wrk(url):
                r["lang"] = "Sandbox"
                rows.append(r)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"wrk skipped: {e}", file=sys.stderr)
        extras = {
            "import_ms": import_time(),
            "max_rss_mb_after_1000_calls": memory_after_1000_calls(url),
            "wheel_bytes": sum(p.stat().st_size for p in (ROOT / "target/bench-wheels").glob("*.whl")),
            "node_addon_bytes": sum(p.stat().st_size for p in (ROOT / "node").glob("*.node")),
            "journal": journal_rows,
        }
    finally:
        sandbox.terminate()

    by_lang: dict[str, dict[tuple[str, str], dict[str, float]]] = {}
    for lang in ("Rust", "Python", "Node", "Sandbox"):
        by_lang[lang] = summarize([r for r in rows if r["lang"] == lang])
    # Raw reqwest (Rust, sequential) is the Python sync target's yardstick too.
    by_lang["Python"][("reqwest", "seq")] = by_lang["Rust"][("reqwest", "seq")]

    print(f"\ncalls/s, median of {RUNS} runs of {SECONDS}s (min–max); {platform.machine()}, {os.cpu_count()} cores\n")
    print(f"{'lang':7} {'mode':5} {'client':20} {'median':>9} {'min':>9} {'max':>9}")
    for lang, table in by_lang.items():
        for (client, mode), s in sorted(table.items(), key=lambda kv: (kv[0][1], -kv[1]['median'])):
            if lang == "Python" and client == "reqwest":
                continue
            print(f"{lang:7} {mode:5} {client:20} {s['median']:9.0f} {s['min']:9.0f} {s['max']:9.0f}")
    ratios = []
    print("\nratios (ours / theirs, medians):")
    for lang, mode, ours, theirs in COMPARISONS:
        t = by_lang[lang]
        if (ours, mode) not in t:
            continue
        for other in theirs:
            key = (other, "seq" if other == "reqwest" and lang == "Python" else mode)
            if key in t:
                ratio = t[(ours, mode)]["median"] / t[key]["median"]
                ratios.append({"lang": lang, "mode": mode, "ours": ours, "theirs": other, "ratio": round(ratio, 2)})
                print(f"  {lang:6} {mode:4} {ours:18} vs {other:18} {ratio:6.2f}x")
    print("\nextras:", json.dumps(extras))

    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"arch": platform.machine(), "cores": os.cpu_count()},
        "seconds_per_run": SECONDS,
        "runs": RUNS,
        "rows": rows,
        "summary": [
            {"lang": lang, "client": c, "mode": m, **s}
            for lang, table in by_lang.items() for (c, m), s in table.items()
        ],
        "ratios": ratios,
        "extras": extras,
    }
    out = ROOT / "bench/results/latest.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    chart(by_lang, ROOT / "bench/results/latest.png")
    print(f"\nwrote {out.relative_to(ROOT)} and bench/results/latest.png")


def chart(by_lang: dict[str, dict[tuple[str, str], dict[str, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(l, m) for l in ("Rust", "Python", "Node") for m in ("seq", "c64")]
    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    for ax, (lang, mode) in zip(axes.T.flat, panels):
        items = sorted(
            ((c, s) for (c, m), s in by_lang[lang].items() if m == mode and not (lang == "Python" and c == "reqwest" )),
            key=lambda cs: -cs[1]["median"],
        )
        names = [c for c, _ in items]
        med = [s["median"] for _, s in items]
        err = [[s["median"] - s["min"] for _, s in items], [s["max"] - s["median"] for _, s in items]]
        colors = ["#1f77b4" if n.startswith("aopay") else "#bbbbbb" for n in names]
        ax.barh(names, med, xerr=err, color=colors)
        ax.invert_yaxis()
        ax.set_title(f"{lang}, {'sequential' if mode == 'seq' else '64 in flight'}")
        ax.set_xlabel("calls/s (median, min–max)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
