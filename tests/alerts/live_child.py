"""A live loop in its own process, for the kill-and-restart test:
``python -m tests.alerts.live_child DATABASE_URL KEY_FILE``."""

from __future__ import annotations

import sys
import threading

from alerts.live import LiveLoop
from audit import Ledger, load_key_file
from crmguard import logs
from crmguard.db import make_engine
from tests.alerts.threshold_detector import ThresholdDetector

THRESHOLD = 50


def main(url: str, key_file: str) -> None:
    logs.configure("warning")  # stdout carries only the ready line
    engine = make_engine(url)
    loop = LiveLoop(
        engine,
        Ledger(engine, load_key_file(key_file)),
        lambda: ThresholdDetector(THRESHOLD),
        routes={"file": "low", "mail": "high"},
        poll_interval=0.01,
        batch=7,  # small batches: a kill lands between many commits
    )
    loop.start()
    print("ready", flush=True)
    loop.run(threading.Event())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
