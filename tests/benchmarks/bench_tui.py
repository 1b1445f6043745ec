"""Start-up time of the terminal UI, as a person sees it: from launching `codeassist PATH` in a
tmux pane to the question box being drawn (polled with capture-pane every 20 ms).

    python tests/benchmarks/bench_tui.py REPO [--runs 5]

The repository's index is built first; the app then re-indexes in a worker (a no-op here), so
this measures the first frame, not indexing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = shutil.which("codeassist") or str(Path(sys.executable).with_name("codeassist"))
    subprocess.run([exe, "index", args.repo, "-q"], check=True)
    times = []
    for run in range(args.runs):
        session = f"bench-tui-{os.getpid()}-{run}"
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                        f"{exe} {args.repo}"], check=True)
        try:
            while True:
                shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                       capture_output=True, text=True).stdout
                if "Ask about this repository" in shown:
                    times.append(time.perf_counter() - start)
                    break
                if time.perf_counter() - start > 30:
                    raise SystemExit(f"no first frame after 30 s:\n{shown}")
                time.sleep(0.02)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        time.sleep(0.5)
    print(f"first frame: median {statistics.median(times):.2f} s (min {min(times):.2f}, "
          f"max {max(times):.2f}) over {len(times)} runs")


if __name__ == "__main__":
    main()
