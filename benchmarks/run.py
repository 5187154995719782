"""Run benchmarks and write their sections into docs/benchmarks.md.

Each benchmark is a module ``benchmarks/bench_<name>.py`` with ``run(quick: bool) -> str`` returning
a Markdown section (no top-level heading).  Sections of benchmarks not run this time are kept, so
one benchmark can be re-run alone.  The machine description is rewritten on every run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = re.compile(r"<!-- bench:(?P<name>[a-z0-9_]+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->\n", re.S)


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine() -> str:
    cpu = cpu_model()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        openssl = "not found"
    return (
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; memory {mem:.1f} GiB\n"
        f"- OS: {platform.platform()}\n"
        f"- Python {platform.python_version()}; {openssl.strip()}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {available()})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = set(names) - set(available())
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    sections = {m["name"]: m["body"] for m in SECTION.finditer(old)}
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        body = module.run(args.quick).rstrip() + "\n"
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        took = time.perf_counter() - started
        quick = " (quick)" if args.quick else ""
        # Sections are re-run one at a time, possibly on another machine: each names its CPU.
        where = f"{cpu_model()} ({os.cpu_count()} cores)"
        sections[name] = f"{body}\n_Run {stamp}{quick}, {took:.0f} s, on {where}._\n"
        print(body)
    parts = [
        "# Benchmarks\n",
        "Written by `uv run python -m benchmarks.run [NAME ...]`; do not edit by hand.\n",
        "## Machine (last run)\n",
        machine(),
    ]
    for name in sorted(sections):
        parts.append(f"<!-- bench:{name} -->\n{sections[name]}<!-- /bench:{name} -->\n")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
