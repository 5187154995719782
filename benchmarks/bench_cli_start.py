"""Command-line start-up: `tenderhall --help`, the bidder's and the custodian's commands' help and
`tenderhall collusion --help` against `python -c "import click"` (the floor any click program pays)
and `python -c pass`, measured run for run in the same loop so that the machine's load hits every
command alike."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

CLICK = 'python -c "import click"'
PEERS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    CLICK: [sys.executable, "-c", "import click"],
}
COMMANDS = {
    "tenderhall --help": ["--help"],
    "tenderhall bid --help": ["bid", "--help"],
    "tenderhall bid seal --help": ["bid", "seal", "--help"],
    "tenderhall release-share --help": ["release-share", "--help"],
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
    # Several rounds, each with its own floor: on a shared machine one busy minute moves a whole
    # round, and the median of the rounds' ratios is steadier than one long loop.
    rounds, runs = (1, 5) if quick else (3, 11)
    entry = [sys.executable, "-m", "tenderhall"]
    argvs = {**PEERS, **{name: entry + args for name, args in COMMANDS.items()}}
    for argv in argvs.values():  # warm the page cache and the bytecode caches
        _time(argv)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    ratios: dict[str, list[float]] = {name: [] for name in argvs}
    load = os.getloadavg()
    for _ in range(rounds):
        round_times: dict[str, list[float]] = {name: [] for name in argvs}
        for _ in range(runs):
            for name, argv in argvs.items():
                round_times[name].append(_time(argv))
        floor = statistics.median(round_times[CLICK])
        for name, values in round_times.items():
            times[name] += values
            ratios[name].append(statistics.median(values) / floor)
    load = tuple(max(a, b) for a, b in zip(load, os.getloadavg(), strict=True))
    lines = [
        "## Command-line start",
        "",
        f"{rounds} round{'s' if rounds > 1 else ''} of {runs} runs, each command interleaved with its "
        f"peers; wall time of the whole process. × import click: in each round the command's median over "
        f"`{CLICK}`'s, then the median of the rounds. Aim (issue 14): `tenderhall bid …` at most 4×.",
        "",
        "| command | median ms | min ms | modules loaded | × import click | rounds |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in times.items():
        modules = str(_modules(COMMANDS[name])) if name in COMMANDS else ""
        lines.append(
            f"| `{name}` | {statistics.median(values) * 1000:.0f} | {min(values) * 1000:.0f} | {modules} "
            f"| {statistics.median(ratios[name]):.2f} | {' / '.join(f'{r:.2f}' for r in ratios[name])} |"
        )
    cores = os.cpu_count() or 1
    shared = (
        ": the machine was shared with other work, so the milliseconds are inflated and swing from run to "
        "run; the ratios are the figure to compare"
        if max(load) > cores
        else ""
    )
    lines += [
        "",
        f"Load average during the run (1/5/15 min, highest seen): {' / '.join(f'{x:.1f}' for x in load)} "
        f"on {cores} cores{shared}.",
    ]
    return "\n".join(lines) + "\n"
