"""Slack bot: a PDF shared where the bot is gets reviewed and summarised in the file's thread; `/review`
lists, shows and compares reviews. Requests are verified with the signing secret by Bolt; Slack's Web
API is reached at `REVIEWER_SLACK_API_BASE_URL`, so tests can stand a fake in for it."""

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlparse

import httpx2
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from reviewer.comparison import build_comparison
from reviewer.documents import PDF_MAGIC
from reviewer.errors import ReviewerError
from reviewer.queue.intake import ReviewTarget
from reviewer.queue.panel import AssessmentInput
from reviewer.queue.results import evaluated_entry, is_finished, review_of
from reviewer.queue.services import Services
from reviewer.render.escape import slack_text
from reviewer.render.slack import (
    ASSESS_ACTION,
    ASSESS_VIEW,
    ReviewListItem,
    assess_modal,
    comparison_blocks,
    failure_reason,
    failure_text,
    help_blocks,
    list_blocks,
    round_text,
    summary_blocks,
    summary_text,
)
from reviewer.store import JobRecord, JobStatus

log = logging.getLogger(__name__)


def _clip_for_field(message: str) -> str:
    return slack_text(message)[:150]


class SlackBot:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings, self.store, self.runner, self.catalog = (
            services.settings,
            services.store,
            services.runner,
            services.catalog,
        )
        settings = self.settings
        token = settings.slack.bot_token.get_secret_value()
        self.token = token
        self.client = AsyncWebClient(token=token, base_url=settings.slack.api_base_url)
        self.app = AsyncApp(  # the token reaches Bolt through the client
            signing_secret=settings.slack.signing_secret.get_secret_value(),
            client=self.client,
            process_before_response=False,
        )
        self.app.event("message")(self.on_message)
        self.app.command("/review")(self.on_command)
        self.app.action(ASSESS_ACTION)(self.on_assess_action)
        self.app.view(ASSESS_VIEW)(self.on_assess_submit)
        self._tasks: set[asyncio.Task] = set()
        self._notifier: asyncio.Task | None = None
        self.wake = asyncio.Event()

    # --- files shared in channels or sent to the bot -------------------------------------------------

    async def on_message(self, event: dict, say) -> None:
        if event.get("bot_id") or not event.get("files"):
            return
        thread = event.get("thread_ts") or event["ts"]
        channel = event["channel"]
        for shared in event["files"]:
            task = asyncio.create_task(self.review_file(shared["id"], channel, thread))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # --- evaluators confirm or change a grade from the summary ----------------------------------------

    async def on_assess_action(self, ack, body: dict) -> None:
        await ack()
        review_id, _, criterion_id = body["actions"][0]["selected_option"]["value"].partition(":")
        job = await asyncio.to_thread(self.store.get, review_id)
        review = await asyncio.to_thread(self.services.panel.final, job) if job else None
        if review is None or all(f.criterion_id != criterion_id for f in review.findings):
            return
        message = body.get("message") or {}
        reply_to = {
            "channel": (body.get("channel") or {}).get("id", ""),
            "thread": message.get("thread_ts") or message.get("ts", ""),
        }
        await self.client.views_open(
            trigger_id=body["trigger_id"], view=assess_modal(review, review_id, criterion_id, reply_to)
        )

    async def on_assess_submit(self, ack, body: dict, view: dict) -> None:
        meta = json.loads(view["private_metadata"])
        values = view["state"]["values"]
        user = body.get("user") or {}
        evaluator = f"slack:{user.get('username') or user.get('id', 'unknown')}"[:64]
        given = AssessmentInput(
            criterion_id=meta["criterion_id"],
            grade=values["grade"]["grade"]["selected_option"]["value"],
            reason=(values.get("reason", {}).get("reason") or {}).get("value"),
        )
        try:
            assessment = await self.services.panel.assess(meta["review_id"], evaluator, given)
        except ReviewerError as exc:
            field = "reason" if exc.code == "reason_required" else "grade"
            await ack(response_action="errors", errors={field: _clip_for_field(exc.message)})
            return
        await ack()
        if meta.get("channel") and meta.get("thread"):
            await self.reply(
                meta["channel"],
                meta["thread"],
                f"{slack_text(evaluator)} graded *{slack_text(assessment.criterion_id)}* as "
                f"{assessment.grade.value}" + (f": {slack_text(assessment.reason)}" if assessment.reason else ""),
            )

    async def reply(self, channel: str, thread: str, text: str, blocks: list[dict] | None = None) -> None:
        await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text, blocks=blocks)

    async def review_file(self, file_id: str, channel: str, thread: str) -> None:
        try:
            info = (await self.client.files_info(file=file_id))["file"]
            name = info.get("name") or "proposal.pdf"
            shown = slack_text(name)  # a file name is the sharer's text: it must not mention or link
            limit = self.settings.ingest.max_file_bytes
            if info.get("filetype") != "pdf" and info.get("mimetype") != "application/pdf":
                await self.reply(channel, thread, f"I can only review PDF proposals; *{shown}* is not a PDF.")
                return
            if int(info.get("size") or 0) > limit:
                await self.reply(
                    channel,
                    thread,
                    f"*{shown}* is {int(info['size']) / 1_048_576:.1f} MB; I review "
                    f"files up to {limit / 1_048_576:.0f} MB.",
                )
                return
            data = await self.download(info["url_private_download"], limit)
            if data is None:
                await self.reply(channel, thread, f"I couldn't download *{shown}* from Slack, so I can't review it.")
                return
            if PDF_MAGIC not in data[:1024]:
                await self.reply(channel, thread, f"*{shown}* does not look like a PDF inside, so I can't review it.")
                return
            target = ReviewTarget.resolve(self.settings, self.catalog, self.runner, self.settings.slack.rubric, None)
            job, _ = await self.services.intake.enqueue(data, name, target, actor="slack")
            # The summary is posted by whichever process sees the job finish, even after a restart.
            await asyncio.to_thread(
                self.store.add_notification, job.id, "slack", {"channel": channel, "thread": thread}
            )
            self.wake.set()
            if not is_finished(job):
                await self.reply(
                    channel,
                    thread,
                    f"Reviewing *{shown}* against {slack_text(target.rubric.title)}; I'll post the summary here.",
                )
        except ReviewerError as exc:
            await self.reply(channel, thread, f"I couldn't review this file: {failure_reason(exc.code)}.")
        except Exception:
            log.exception("reviewing a Slack file failed")
            await self.reply(channel, thread, "Something went wrong while reviewing this file; the team has the logs.")

    def _trusted(self, url: str) -> bool:
        """The bot token goes only to Slack's own file host (or the configured API host)."""
        parsed = urlparse(url)
        api_host = urlparse(self.settings.slack.api_base_url).hostname
        return (
            parsed.scheme in ("https", "http")
            and (parsed.hostname in {api_host, "files.slack.com"} or (parsed.hostname or "").endswith(".slack.com"))
            and (parsed.scheme == "https" or parsed.hostname == api_host)
        )

    async def download(self, url: str, limit: int) -> bytes | None:
        if not self._trusted(url):
            log.warning("refused to send the bot token to an unexpected file host")
            return None
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            httpx2.AsyncClient(follow_redirects=True, timeout=60) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                return None
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
            return b"".join(chunks)

    async def deliver_notifications(self) -> None:
        """Post the outcome of every finished review someone asked about in Slack; runs for the app's life."""
        worker_id = f"{self.runner.process_id}/slack"
        while True:
            try:
                ready = await asyncio.to_thread(self.store.claim_notifications, "slack", worker_id, 60.0)
                for notification, job in ready:
                    target = notification.target
                    if job is None:
                        await self.reply(target["channel"], target["thread"], "That review was deleted.")
                    elif "round" in target:
                        await self.post_round(target["channel"], target["thread"], job, target["round"])
                    else:
                        await self.post_outcome(target["channel"], target["thread"], job)
                    await asyncio.to_thread(self.store.mark_sent, notification.id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("posting review outcomes to Slack failed; will retry")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.jobs.poll_seconds):
                    await self.wake.wait()

    def start(self) -> None:
        self._notifier = asyncio.create_task(self.deliver_notifications(), name="slack-notifier")

    async def stop(self) -> None:
        if self._notifier is not None:
            self._notifier.cancel()
            await asyncio.gather(self._notifier, return_exceptions=True)

    async def post_outcome(self, channel: str, thread: str, job: JobRecord) -> None:
        if job.status is JobStatus.DONE and (review := review_of(job)) is not None:
            await self.reply(
                channel, thread, summary_text(review), summary_blocks(review, job.id, self.settings.api.public_base_url)
            )
        else:
            await self.reply(channel, thread, failure_text(job.file_name, job.error_code))

    async def post_round(self, channel: str, thread: str, job: JobRecord, number: object) -> None:
        views = await asyncio.to_thread(self.services.rounds.rounds, job.id)
        view = next((v for v in views if v.number == number), None)
        if view is not None:
            name = job.vendor_name or job.file_name
            await self.reply(channel, thread, round_text(view, name, view.error_code))

    # --- /review ------------------------------------------------------------------------------------

    async def on_command(self, ack, command: dict) -> None:
        words = (command.get("text") or "").split()
        verb = words[0].lower() if words else "help"
        if verb == "help":
            await ack(blocks=help_blocks(), text="How to use /review")
        elif verb == "list":
            jobs, _ = await asyncio.to_thread(self.store.list_jobs, None, 10, 0)
            items = [
                ReviewListItem(
                    id=j.id, name=j.vendor_name or j.file_name, status=j.status.value, error_code=j.error_code
                )
                for j in jobs
            ]
            await ack(blocks=list_blocks(items), text="Recent reviews")
        elif verb == "compare":
            await self.compare(ack, words[1:])
        else:
            await self.show(ack, words[0])

    async def _find(self, prefix: str) -> JobRecord | str:
        if len(prefix) < 6:
            return f"`{slack_text(prefix)}` is too short; give at least 6 characters of a review id."
        matches = await asyncio.to_thread(self.store.find_by_prefix, prefix.lower())
        if not matches:
            return f"No review with an id starting `{slack_text(prefix)}`."
        if len(matches) > 1:
            return f"`{slack_text(prefix)}` matches several reviews; give more of the id."
        return matches[0]

    async def show(self, ack, prefix: str) -> None:
        job = await self._find(prefix)
        if isinstance(job, str):
            await ack(text=job)
        elif job.status is JobStatus.DONE and (review := await asyncio.to_thread(self.services.panel.final, job)):
            # the latest round, with the panel's final grades, as GET /v1/reviews/{id} shows it
            await ack(
                blocks=summary_blocks(review, job.id, self.settings.api.public_base_url), text=summary_text(review)
            )
        else:
            reason = f": {failure_reason(job.error_code)}" if job.error_code else ""
            await ack(text=f"Review `{job.id[:8]}` of *{slack_text(job.file_name)}* is {job.status.value}{reason}.")

    async def compare(self, ack, prefixes: list[str]) -> None:
        if len(prefixes) < 2:
            await ack(text="Give at least two review ids: `/review compare <id> <id> ...`")
            return
        entries, rubric_ids = [], set()
        for prefix in prefixes:
            job = await self._find(prefix)
            if isinstance(job, str):
                await ack(text=job)
                return
            entry = await asyncio.to_thread(evaluated_entry, self.store, job, job.file_name)
            if entry.review:
                rubric_ids.add(entry.review.rubric.id)
            entries.append(entry)
        if len(rubric_ids) > 1:
            await ack(text="These reviews use different rubrics and cannot be compared.")
            return
        rubric = self.catalog.load(next(iter(rubric_ids)) if rubric_ids else self.settings.slack.rubric)
        await ack(blocks=comparison_blocks(build_comparison(entries, rubric)), text="Vendor comparison")
