"""Traces, results and their renderings."""
