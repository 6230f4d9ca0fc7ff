"""harness: an event-sourced server for LLM evaluation and agent runs."""

__version__ = "0.1.0"
