"""The log: typed events, positions, reading, appending, tailing and the in-process bus.

This package knows bytes and positions. It decodes lines into typed events but knows
nothing of what a run means; that is ``projections``' business.
"""
