"""Model providers (SPEC §7.2), one small class each behind ``base.Provider``.

``make_provider`` builds one by name, case-insensitively ("OpenAI" is ``openai``).
"""

from __future__ import annotations

from harness.api_shapes import PROVIDER_NAMES
from harness.errors import Invalid
from harness.providers.base import Prompt, Provider, ProviderError
from harness.providers.http_client import SharedHttpClient
from harness.providers.openai import OpenAIProvider
from harness.providers.simulated import SimulatedProvider
from harness.settings import Settings

__all__ = ["PROVIDER_NAMES", "Prompt", "Provider", "ProviderError", "SharedHttpClient",
           "make_provider"]


def make_provider(name: str, settings: Settings, *,
                  http_client: SharedHttpClient | None = None) -> Provider:
    """The provider called ``name``; ``Invalid`` (422) listing the known ones otherwise.
    ``http_client`` is shared by providers that talk HTTP (the app passes its own)."""
    match name.strip().lower():
        case "simulated":
            return SimulatedProvider()
        case "openai":
            return OpenAIProvider(base_url=settings.openai_base_url,
                                  api_key=settings.openai_api_key,
                                  http_client=http_client.client() if http_client else None)
    raise Invalid(f"unknown provider {name!r}; known providers: {', '.join(PROVIDER_NAMES)}",
                  details={"field": "providerName", "known": list(PROVIDER_NAMES)})
