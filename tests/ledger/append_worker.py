"""A process that appends records and acknowledges each one on stdout once append_record returns.

Usage: python append_worker.py LEDGER KEY COUNT TAG [PAD]   (COUNT 0: append until killed;
PAD: characters of padding per record, to make records span several pages)
Each acknowledgement line is ``<index> <record hash>``.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from bias_ledger.ledger.keys import load_private_key_file
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record


def main() -> None:
    ledger, key_path, count, tag = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        int(sys.argv[3]),
        sys.argv[4],
    )
    pad = "x" * int(sys.argv[5]) if len(sys.argv) > 5 else ""
    key = load_private_key_file(key_path, None)
    numbers = range(count) if count else itertools.count()
    for number in numbers:
        payload = {"note": f"{tag}-{number}{pad}"}
        appended = append_record(ledger, RecordKind.GATE, payload, key)
        sys.stdout.write(f"{appended.index} {appended.record_hash}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
