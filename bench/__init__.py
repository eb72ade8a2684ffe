"""Benchmarks: buffering quality against the AWS sample's fixed window, aggregator cost, scale, cold start.

`python -m bench` (or `make bench`) runs every measurement, prints a table and writes bench/results.json and
bench/sweep.png. Measurements, not tests: nothing here asserts a timing.
"""
