"""The Slack bot as a part of a server: POST /slack/events (verified by Bolt with the signing secret)
and the notifier that posts finished reviews, started and stopped with the app."""

from fastapi import FastAPI, Request

from reviewer.queue.services import Services
from reviewer.slack.bot import SlackBot


class SlackExtension:
    def __init__(self) -> None:
        self.bot: SlackBot | None = None
        self._handler = None
        self._notifying = False

    def mount(self, app: FastAPI) -> None:
        @app.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request):
            if self._handler is None:
                from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

                self._handler = AsyncSlackRequestHandler(self.bot.app)
            return await self._handler.handle(request)

    async def start(self, services: Services, *, run_workers: bool) -> None:
        self.bot = SlackBot(services)
        if run_workers:
            self.bot.start()
            self._notifying = True

    async def stop(self) -> None:
        if self.bot is not None and self._notifying:
            await self.bot.stop()
