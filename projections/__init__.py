"""Read models: pure folds of events into state, with no I/O, clocks or randomness.

The server, the headless CLI and the benchmarks all use these same folds, so a replay
of the log gives exactly what the live server showed.
"""
