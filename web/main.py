"""The app built from the environment, for ``uvicorn web.main:app`` and ``--reload``."""

from harness.settings import Settings
from web.app import create_app

app = create_app(Settings.from_env())
