"""Signed per-test records: how a grading process tells its parent what happened, one JSON line per event.

Events, in order: ``collected`` (the tests, before any graded code runs), then per test ``start`` and
``result`` (verdict and message), and ``finished`` at the end. Each line carries an HMAC-SHA256 of its
payload under a key the parent handed over in a file the child deletes at start-up, and a sequence number;
the parent (:mod:`vaekit.grading.sandbox`) rejects records that do not verify, so graded code cannot
append results of its own choosing to the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

# Bound once at import, before graded code runs: later changes to these modules do not reach the writer.
_write, _open, _close = os.write, os.open, os.close
_dumps, _loads = json.dumps, json.loads
_hmac_new, _sha256, _compare = hmac.new, hashlib.sha256, hmac.compare_digest

ENV_RECORDS = "VAEKIT_RECORDS"  # path of the records file (append-only)
ENV_KEY = "VAEKIT_RECORDS_KEY"  # path of the key file, deleted by the child once read


class RecordError(ValueError):
    """A records file that does not verify: altered, forged or reordered. ``events``: the valid ones before."""

    def __init__(self, message: str, events: list[dict]):
        super().__init__(message)
        self.events = events


def sign(key: bytes, payload: str) -> str:
    return _hmac_new(key, payload.encode(), _sha256).hexdigest()


class RecordWriter:
    """Appends signed events to the records file."""

    def __init__(self, path: str, key: bytes):
        self._fd = _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.set_inheritable(self._fd, False)
        self._key = key
        self._seq = 0

    @classmethod
    def from_environment(cls) -> RecordWriter | None:
        """The writer the parent asked for (environment variables), or None; reads and deletes the key file."""
        path, key_file = os.environ.pop(ENV_RECORDS, None), os.environ.pop(ENV_KEY, None)
        if not path or not key_file:
            return None
        key = Path(key_file).read_bytes()
        Path(key_file).unlink()
        return cls(path, key)

    def emit(self, event: str, **fields) -> None:
        payload = _dumps({"seq": self._seq, "event": event, **fields}, sort_keys=True)
        self._seq += 1
        line = _dumps({"payload": payload, "sig": sign(self._key, payload)}) + "\n"
        _write(self._fd, line.encode())


def read_records(text: str, key: bytes) -> list[dict]:
    """Verify and decode a records file's text into its events.

    A last line without its newline (the process died while writing it) is dropped. Raises RecordError on
    any line that does not verify or is out of sequence.
    """
    events = []
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        try:
            outer = _loads(line)
            payload, sig = outer["payload"], outer["sig"]
        except (ValueError, KeyError, TypeError) as err:
            raise RecordError(f"record {number} is not a signed record ({err})", events) from None
        if not isinstance(payload, str) or not isinstance(sig, str) or not _compare(sign(key, payload), sig):
            raise RecordError(f"record {number} does not carry a valid signature", events)
        event = _loads(payload)
        if event.get("seq") != len(events):
            raise RecordError(f"record {number} is out of sequence", events)
        events.append(event)
    return events
