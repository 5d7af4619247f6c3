"""``python -m tests.corpus``: run the corpus under rustgrad and report, most frequent blockers first.

    python -m tests.corpus [--record] [--timeout S] [--workers N] [NAME ...]

``--record`` first reruns the programs under PyTorch and rewrites ``expected/``.
"""

import argparse
import sys
from collections import Counter

from . import harness
from .manifest import PASSING, PROGRAMS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpus")
    parser.add_argument("names", nargs="*", help="programs to run (default: all)")
    parser.add_argument("--record", action="store_true", help="record PyTorch's outputs first")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    unknown = set(args.names) - {p.name for p in PROGRAMS}
    if unknown:
        parser.error(f"unknown programs: {', '.join(sorted(unknown))}")
    chosen = [p for p in PROGRAMS if not args.names or p.name in args.names]
    absent = [p.name for p in chosen if not harness.program_path(p).exists()]
    if absent:
        print(f"not present in {harness.PROGRAM_DIR} (skipped): {', '.join(absent)}")
    chosen = [p for p in chosen if p.name not in absent]
    if args.record:
        for failure in harness.record(chosen):
            print(f"PyTorch itself fails: {failure}")
    unrecorded = [p.name for p in chosen if not harness.expected_path(p).exists()]
    if unrecorded:
        print(f"no recorded PyTorch output (run with --record): {', '.join(unrecorded)}")
    chosen = [p for p in chosen if p.name not in unrecorded]

    results = harness.check_all(chosen, args.timeout, args.workers)
    modes = {p.name: p.mode for p in PROGRAMS}
    width = max((len(r.program) for r in results), default=7)
    print(f"| {'program':<{width}} | mode     | result  | time  | detail")
    print(f"|-{'-' * width}-|----------|---------|-------|-------")
    for r in results:
        detail = r.detail if len(r.detail) <= 110 else r.detail[:107] + "..."
        print(
            f"| {r.program:<{width}} | {modes[r.program]:<8} | {r.status:<7} | {r.seconds:4.1f}s | {detail}"
        )
    passing = [r.program for r in results if r.status == "pass"]
    print(f"\n{len(passing)} of {len(results)} pass.")
    blocked = harness.blockers(results)
    if blocked:
        print(
            "\nMissing names that stop programs (the first one each program meets), most frequent first:"
        )
        for name, count in blocked:
            print(f"  {count:3d}  {name}")
    failing = [p for p in chosen if p.name not in passing]
    uses = Counter(n for names in harness.static_missing(failing).values() for n in names)
    if uses:
        print(
            "\nEvery name the failing programs use that rustgrad lacks (python -m rustgrad check),"
            " by number of programs:"
        )
        for name, count in uses.most_common():
            print(f"  {count:3d}  {name}")
    newly = sorted(set(passing) - PASSING)
    regressed = sorted(PASSING & {r.program for r in results if r.status != "pass"})
    if newly:
        print(f"\nNow passing, add to manifest.PASSING: {', '.join(newly)}")
    if regressed:
        print(f"\nListed as passing but failed: {', '.join(regressed)}")
    return 1 if regressed or newly else 0


if __name__ == "__main__":
    sys.exit(main())
