"""Test support: real servers on loopback, real logs, and waiting with deadlines."""
