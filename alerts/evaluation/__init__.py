"""Evaluation of detection: a generator of a company's activity with injected leaks, and a
scorer (``python -m alerts.evaluation --seed N``)."""
