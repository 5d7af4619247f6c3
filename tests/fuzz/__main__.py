"""A fuzz campaign: ``python -m tests.fuzz --programs 20000 --seed 1 [--jobs 2]``.

Prints each mismatch class (signature) with its count, whether it is a known bug (``known.py``)
and a minimal reproducer (the shortest instance, already shrunk). ``--json FILE`` also writes
every class with its reproducer's statements (the format ``known.py`` stores).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

from fuzz.known import KNOWN, classify
from fuzz.runner import reproducer, run_batch


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first program index")
    ap.add_argument("--jobs", type=int, default=1, help="child processes in parallel")
    ap.add_argument("--chunk", type=int, default=250, help="programs per child batch")
    ap.add_argument("--json", help="write the classes and reproducers to this file")
    args = ap.parse_args(argv)

    t0 = time.time()
    stop = args.start + args.programs
    chunks = [(s, min(s + args.chunk, stop)) for s in range(args.start, stop, args.chunk)]
    results = []
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futs = [pool.submit(run_batch, args.seed, a, b) for a, b in chunks]
        for n, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            results.extend(fut.result())
            print(
                f"[{n}/{len(chunks)} batches, {time.time() - t0:.0f}s, "
                f"{len(results)} mismatching programs]",
                file=sys.stderr,
                flush=True,
            )

    classes = collections.defaultdict(list)
    for idx, sig, detail, stmts in results:
        classes[sig].append((len(stmts), idx, detail, stmts))
    known = {k.id: k for k in KNOWN}
    print(
        f"seed {args.seed}, programs {args.start}..{stop - 1}: {len(results)} mismatching "
        f"programs in {len(classes)} classes ({time.time() - t0:.0f}s)\n"
    )
    out = []
    for sig, items in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        _, idx, detail, stmts = min(items, key=lambda t: (t[0], t[1]))
        ids = {classify(sig, d, st) for _, _, d, st in items}
        label = "; ".join(
            f"known {i}: {known[i].issue_class}" if i else "NOT IN known.py"
            for i in sorted(ids, key=str)
        )
        print(f"== {len(items):5d}  {sig}   [{label}]\n   (program {idx}: {detail})")
        print("   " + reproducer(stmts).replace("\n", "\n   ") + "\n")
        out.append(
            {
                "signature": sig,
                "count": len(items),
                "program": idx,
                "detail": detail,
                "classes": sorted(map(str, ids)),
                "stmts": [s.to_json() for s in stmts],
            }
        )
    # the same mismatches by class of known.py (what the CI slice accepts)
    by_class = collections.Counter(classify(sig, d, st) for _, sig, d, st in results)
    print("by known class (programs):")
    for cid, n in by_class.most_common():
        label = known[cid].issue_class if cid else "NOT IN known.py: a new bug, or a new class"
        print(f"  {n:6d}  {cid}: {label}")
    if args.json:
        unclassified = [
            {"program": i, "signature": sig, "detail": d, "stmts": [x.to_json() for x in st]}
            for i, sig, d, st in results
            if classify(sig, d, st) is None
        ]
        with open(args.json, "w") as fh:
            json.dump(
                {"classes": out, "by_class": dict(by_class), "unclassified": unclassified[:200]},
                fh,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
