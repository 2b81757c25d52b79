"""The web app as a server extension: its routes and stylesheet on the API's app, its own signing secret."""

import secrets
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from reviewer.config import Settings
from reviewer.queue.services import Services
from reviewer.web import evaluation_pages
from reviewer.web.drafts import Drafts
from reviewer.web.routes import router
from reviewer.web.session import Signer


class WebExtension:
    def __init__(self, settings: Settings) -> None:
        configured = settings.api.web_secret
        # Unset: a fresh secret per process start; sessions then end with a restart.
        secret = configured.get_secret_value().encode() if configured else secrets.token_bytes(32)
        self.signer = Signer(secret)
        self.drafts = Drafts(settings.storage.data_dir / "web-drafts")
        self.max_upload_bytes = settings.api.max_batch_bytes + 512 * 1024  # the proposals and a rubric file

    def body_limits(self) -> dict[tuple[str, str], int]:
        return {("POST", evaluation_pages.NEW_PATH): self.max_upload_bytes}

    def mount(self, app: FastAPI) -> None:
        app.state.web_signer = self.signer
        app.state.web_drafts = self.drafts
        app.include_router(router)
        app.include_router(evaluation_pages.router)
        app.mount("/web/static", StaticFiles(directory=Path(__file__).parent / "static"), name="web-static")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/web/", status_code=307)

    async def start(self, services: Services, *, run_workers: bool) -> None:
        return None

    async def stop(self) -> None:
        return None
