"""The systems a benchmark compares, each run as its own process by bench.run.

Every system module is `python -m bench.systems.<name> --params JSON` and prints one JSON line
(a SystemOutput) last on stdout: what it found and the peak memory of each of its processes.
"""
