"""The detectors, one module each; :func:`all_detectors` is the set the engine runs."""

from __future__ import annotations

from alerts.detectors.burst import BurstDetector
from alerts.detectors.departing import DepartingDetector
from alerts.detectors.drip import DripDetector
from alerts.detectors.interface import Detector, DetectorError, Signal
from alerts.detectors.probing import ProbingDetector
from alerts.detectors.scraping import ScrapingDetector
from alerts.detectors.system import SystemDetector
from alerts.detectors.unusual import UnusualExportDetector
from alerts.detectors.usual import UsualVolumeDetector
from alerts.detectors.volume import VolumeDetector


def all_detectors() -> list[Detector]:
    """Fresh detectors (each holds its own per-user windows), in a fixed order."""
    return [
        BurstDetector(),
        VolumeDetector(),
        UsualVolumeDetector(),
        ScrapingDetector(),
        UnusualExportDetector(),
        DripDetector(),
        ProbingDetector(),
        DepartingDetector(),
        SystemDetector(),
    ]


__all__ = ["Detector", "DetectorError", "Signal", "all_detectors"]
