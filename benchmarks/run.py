"""Time every chapter notebook, the data build and the reference-checkpoint script.

    python benchmarks/run.py [NAME ...] [--out FILE]

NAME is the stem of a notebook listed in ``_toc.yml`` (``dataset``, ``tagging``,
...), ``data_build`` or ``pretrain``; none means the data build and every notebook
(``pretrain`` retrains the reference checkpoints, about an hour, so it runs only
when named). Each item runs in a fresh
process (notebooks in a fresh kernel), offline. For each item the runner
records wall ``seconds``, ``peak_rss_mb`` (largest resident memory of the whole
process tree, sampled every 0.1 s) and ``metrics`` (the headline numbers the
notebook reports through ``musictext.report_metrics``). Results are merged
into ``benchmarks/results.json`` (or FILE) and tabulated in ``results.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from musictext.book import notebooks

ROOT = Path(__file__).resolve().parent.parent


def items(book_root: Path = ROOT) -> dict[str, Path | None]:
    """Everything the runner can time, in order: the data build, the checkpoint
    script, then every notebook ``_toc.yml`` lists (by stem)."""
    return {"data_build": None, "pretrain": None, **{p.stem: p for p in notebooks(book_root)}}


ITEMS = items()
NOTEBOOKS = {k: v for k, v in ITEMS.items() if v is not None}
ORDER = list(ITEMS)
DEFAULT = [k for k in ORDER if k != "pretrain"]      # pretrain (about an hour) only when named

RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def run_item(name: str, scratch: Path) -> dict:
    env = os.environ.copy()
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1"})
    metrics_file = scratch / f"{name}-metrics.json"
    metrics_file.unlink(missing_ok=True)
    env["MUSICTEXT_METRICS_FILE"] = str(metrics_file)
    if name == "data_build":
        cmd = [sys.executable, "-m", "musictext", "data", "build", "--out", str(scratch / "data"),
               "--clips", "2000", "--seed", "0"]
    elif name == "pretrain":
        cmd = [sys.executable, "-m", "musictext.pretrain", "--out", str(scratch / "checkpoints")]
    else:
        nb = ROOT / NOTEBOOKS[name]
        cmd = [sys.executable, "-c", RUN_NOTEBOOK, str(nb), str(nb.parent)]
    log = scratch / f"{name}.log"
    t0 = time.perf_counter()
    with open(log, "w") as lf:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=lf, stderr=subprocess.STDOUT)
        ps = psutil.Process(proc.pid)
        peak = [0]

        def sample():
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree_rss(ps))
                time.sleep(0.1)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        rc = proc.wait()
        th.join()
    seconds = time.perf_counter() - t0
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    res = {"seconds": round(seconds, 1), "peak_rss_mb": round(peak[0] / 2**20), "metrics": metrics,
           "returncode": rc}
    if rc != 0:
        res["log_tail"] = log.read_text()[-3000:]
    return res


def write_markdown(results: dict, path: Path) -> None:
    lines = ["# Benchmark results", "",
             f"Machine: {results.get('_machine', {}).get('description', '?')}", "",
             "| item | seconds | peak RSS (MB) | metrics |", "|---|---:|---:|---|"]
    for name in ORDER:
        r = results.get(name)
        if not r:
            continue
        m = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in r["metrics"].items())
        status = "" if r.get("returncode", 0) == 0 else " (FAILED)"
        lines.append(f"| {name}{status} | {r['seconds']:.0f} | {r['peak_rss_mb']} | {m} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*",
                    help=f"items to run, from {', '.join(ORDER)} (default: {', '.join(DEFAULT)})")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = ap.parse_args(argv)
    bad = [n for n in args.names if n not in ORDER]
    if bad:
        ap.error(f"unknown item(s) {bad}; choose from {ORDER}")
    names = args.names or DEFAULT
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["_machine"] = {"description": f"{platform.machine()}, {os.cpu_count()} cores, "
                                          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, "
                                          f"Python {platform.python_version()}"}
    failed = 0
    if any(n in NOTEBOOKS for n in names):          # the notebooks' data, built before any is timed
        from musictext.data import prepare_caches
        from musictext.paths import display_path

        done = prepare_caches(progress=False)
        print(f"notebook data {'built' if done['built'] else 'found'} in {display_path(done['root'])} "
              f"({done['seconds']:.0f} s, not counted in the notebook times)", flush=True)
    with tempfile.TemporaryDirectory(prefix="musictext-bench-") as tmp:
        for name in names:
            print(f"running {name} ...", flush=True)
            res = run_item(name, Path(tmp))
            results[name] = res
            failed += res["returncode"] != 0
            print(f"  {name}: {res['seconds']} s, peak {res['peak_rss_mb']} MB, rc {res['returncode']}, "
                  f"metrics {res['metrics']}", flush=True)
            args.out.write_text(json.dumps(results, indent=1) + "\n")
            write_markdown(results, args.out.with_suffix(".md"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
