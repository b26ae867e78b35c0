"""evaluate: score zone alerts against a scenario's truth; write report.md, scorecard.json, figures.

``score(truth, alerts, zones)`` is the pure scorer (see :mod:`airwarn.evaluate.scoring`
for the exact definitions); ``evaluate_files`` reads the public files and writes the
report.
"""

from __future__ import annotations

from airwarn.evaluate.report import evaluate_files, write_report
from airwarn.evaluate.scoring import EvalParams, Scorecard, score

__all__ = ["EvalParams", "Scorecard", "evaluate_files", "score", "write_report"]
