"""A differential fuzzer: random programs over rustgrad's public surface, run in rustgrad and in
the reference PyTorch, compared statement by statement (values, dtypes, shapes, requires_grad,
exception types), then first- and second-order gradients.

- ``program.py``: a program is a list of ``Stmt`` (Python source lines written against a module
  named ``torch``), generated from a seed with the reference PyTorch as the oracle of shapes
  and dtypes; the same text runs in either library, so a mismatch prints as a standalone script.
- ``runner.py``: runs programs in both libraries and compares; runs batches in a child process
  (a segfault or abort is reported with the program and statement that caused it); shrinks a
  mismatching program to a minimal reproducer; the known-bug list (``known.py``) turns the
  result into pass/fail.
- ``python -m tests.fuzz --programs 20000 --seed 1``: a long campaign (see README, "Tests").
- ``test_fuzz.py``: the fixed-seed slice CI runs.
"""
