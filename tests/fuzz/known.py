"""Known rustgrad bugs the fuzzer finds: each a mismatch signature (what ``runner.compare``
reports for the first mismatching statement), the class of issue 10 it belongs to, and a
minimal reproducer. The CI slice (``test_fuzz.py``) fails on a signature not listed here, and
on a listed one whose reproducer no longer shows it (a fixed bug: remove its entry), like a
strict xfail. Deliberate differences are not here: they are in the README and the generator
does not produce them.
"""

import dataclasses


@dataclasses.dataclass
class Known:
    signature: str
    issue_class: str
    stmts: list  # the reproducer: [code, tag, checked names] per statement


KNOWN = []
