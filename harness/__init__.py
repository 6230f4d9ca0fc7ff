"""harness: an event-sourced server for LLM evaluation and agent runs."""
