"""Benchmarks of policy-qa against the simple alternative: `python -m benchmarks`."""
