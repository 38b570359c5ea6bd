"""Where one cached 1 KiB GET through a bound domain spends the server's time.

Starts ``ossutil-server`` (core 0), drives ``wrk -t1 -c64`` at ``small.txt`` on the bench domain
(core 1), samples the server's main thread with ``py-spy record -f raw`` meanwhile, and prints
the share of samples under each of our functions (inclusive) and the busiest leaf functions
(self). py-spy leaves out samples of a thread waiting in a system call (the loop's ``epoll``),
so the shares are of the main thread's busy time; lines are folded into their function.

    .venv/bin/pip install py-spy   # a profiling tool, not a dependency of the project
    .venv/bin/python bench/profile_get.py [--seconds 6] [--top 25]

py-spy needs ptrace: as root, or with ``kernel.yama.ptrace_scope`` 0.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

_LINE = re.compile(r":\d+\)$")


def frames(stack: str) -> list[str]:
    """``py-spy -f raw`` frames of one stack, outermost first, without the thread prefix;
    ``name (file:line)`` folded to ``name (file)``."""
    return [_LINE.sub(")", f) for f in stack.split(";")[1:] if f]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists() or shutil.which("wrk") is None:
        raise SystemExit("needs py-spy (pip install py-spy) and wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as scratch:
        server = common.start_server(Path(scratch) / "data")
        try:
            common.prepare_bucket(server.endpoint)
            host = {"Host": f"{common.DOMAIN}:{server.http_port}"}
            url = f"{server.endpoint}/small.txt"
            common.wrk(url, host, 1.0)  # warm: caches filled, plans recorded
            raw = Path(scratch) / "get.raw"
            rate: list[float] = []
            load = threading.Thread(target=lambda: rate.append(common.wrk(
                url, host, args.seconds + 2).requests_per_second))
            load.start()
            subprocess.run([spy, "record", "--pid", str(server.process.pid), "--rate", "1000",
                            "--duration", f"{args.seconds:g}", "--format", "raw",
                            "--nonblocking", "--threads", "--output", str(raw)],
                           check=True, capture_output=True)
            load.join()
        finally:
            server.stop()
        inclusive: collections.Counter[str] = collections.Counter()
        leaf: collections.Counter[str] = collections.Counter()
        busy = 0
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            names = frames(stack)
            if not names or "MainThread" not in stack.split(";", 1)[0]:
                continue
            busy += int(count)
            for name in set(names):
                inclusive[name] += int(count)
            leaf[names[-1]] += int(count)
    print(f"{rate[0]:,.0f} req/s under wrk while sampled; {busy} busy samples of the main "
          f"thread at 1 kHz over {args.seconds:g} s\n")
    print("inclusive share of busy samples, our frames (ossutil/):")
    for name, count in inclusive.most_common():
        if "ossutil/" in name and count / max(busy, 1) >= 0.005:
            print(f"  {count / busy:6.1%}  {name}")
    print(f"\nself share of busy samples, top {args.top} leaf frames:")
    for name, count in leaf.most_common(args.top):
        print(f"  {count / busy:6.1%}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
