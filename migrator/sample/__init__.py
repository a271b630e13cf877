"""Synthetic Slack workspaces for benchmarks, the reliability suite and demos (`migrator sample generate`)."""

from migrator.sample.generate import SampleError, SampleOptions, SampleSummary, generate

__all__ = ["SampleError", "SampleOptions", "SampleSummary", "generate"]
