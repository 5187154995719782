"""Command-line start-up: `tenderhall --help`, `tenderhall bid --help` and `tenderhall bid seal --help`
against `python -c "import click"` (the floor any click program pays) and `python -c pass`, measured
run for run in the same loop so that the machine's load hits every command alike."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

PEERS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import click"': [sys.executable, "-c", "import click"],
}
COMMANDS = {
    "tenderhall --help": ["--help"],
    "tenderhall bid --help": ["bid", "--help"],
    "tenderhall bid seal --help": ["bid", "seal", "--help"],
    "tenderhall collusion --help": ["collusion", "--help"],
}


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - start


def _modules(args: list[str]) -> int:
    probe = (
        "import sys\nfrom tenderhall.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
        "    pass\nsys.stdout = sys.__stdout__\nprint(len(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> str:
    runs = 5 if quick else 21
    entry = [sys.executable, "-m", "tenderhall"]
    argvs = {**PEERS, **{name: entry + args for name, args in COMMANDS.items()}}
    for argv in argvs.values():  # warm the page cache and the bytecode caches
        _time(argv)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            times[name].append(_time(argv))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median['python -c "import click"']
    lines = [
        "## Command-line start",
        "",
        f"Each command run {runs} times, interleaved with its peers; median wall time of the whole "
        'process. Aim (issue 14): `tenderhall bid …` at most 4× `python -c "import click"`.',
        "",
        "| command | median ms | min ms | modules loaded | × import click |",
        "|---|---|---|---|---|",
    ]
    for name, values in times.items():
        modules = str(_modules(COMMANDS[name])) if name in COMMANDS else ""
        lines.append(
            f"| `{name}` | {median[name] * 1000:.0f} | {min(values) * 1000:.0f} | {modules} "
            f"| {median[name] / floor:.2f} |"
        )
    return "\n".join(lines) + "\n"
