"""/web evaluations: the home page (every batch and loose review, filtered by a plain GET form, its progress
polled by /web/static/live.js), New evaluation (upload -> estimate -> start, through the core's batch
intake), and the comparison with its downloads."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from reviewer.comparison import MandatoryPolicy
from reviewer.documents import check_document_bytes, safe_file_name
from reviewer.errors import ReviewerError
from reviewer.grading.base import backend_names, resolve_backend_name
from reviewer.grading.estimate import describe
from reviewer.queue.batches import IncomingFile, queue_batch
from reviewer.queue.estimates import estimate_batch
from reviewer.queue.intake import ReviewTarget
from reviewer.render import comparison as render_comparison
from reviewer.render import compliance as render_compliance
from reviewer.rubric import RubricCatalog
from reviewer.web import evaluation_views as ev
from reviewer.web.auth import Viewer, csrf_ok, current_viewer
from reviewer.web.drafts import Draft, Drafts
from reviewer.web.pages import HEADERS, error_page, page, sign_in_page

router = APIRouter(prefix="/web", include_in_schema=False)
MAX_FILES = 100
NEW_PATH = "/web/evaluations/new"


def _drafts(request: Request) -> Drafts:
    return request.app.state.web_drafts


@router.get("/")
async def home(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    filters = ev.Filters.from_query(dict(request.query_params))
    rows = await asyncio.to_thread(ev.evaluations, request.app.state.services.store, viewer.lead)
    rubrics = sorted({row.rubric for row in rows})
    shown = [row for row in rows if filters.keeps(row)]
    return page(request, viewer, "home.html", rows=shown, total=len(rows), filters=filters, rubrics=rubrics)


@router.get("/evaluations/progress.json")
async def progress(request: Request) -> Response:
    """The live part of the home and comparison pages: {id: {status, counts}} for ?batch=..&review=.. ids."""
    viewer = current_viewer(request)
    if viewer is None:
        return JSONResponse({"error": {"code": "unauthorized", "message": "sign in first"}}, status_code=401)
    batches = request.query_params.getlist("batch")
    reviews = request.query_params.getlist("review")
    found = await asyncio.to_thread(ev.progress_of, request.app.state.services.store, batches, reviews)
    return JSONResponse(
        {key: value.model_dump(mode="json") for key, value in found.items()}, headers={"Cache-Control": "no-store"}
    )


# ----- New evaluation: the form, its draft (files kept), the estimate, the start


def _rubric_choices(catalog: RubricCatalog) -> list[dict[str, str]]:
    return [
        {"name": name, "title": rubric.title, "criteria": str(len(rubric.criteria)), "origin": catalog.origin(name)}
        for name, rubric in catalog.usable()
    ]


def _form_page(
    request: Request,
    viewer: Viewer,
    draft: Draft | None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    services = request.app.state.services
    settings = services.settings
    chosen_backend = (draft.backend if draft else None) or resolve_backend_name(None, settings)
    return page(
        request,
        viewer,
        "new.html",
        status,
        draft=draft,
        errors=errors or [],
        rubrics=_rubric_choices(services.catalog),
        chosen_rubric=draft.rubric if draft else "default",
        backends=backend_names(),
        chosen_backend=chosen_backend,
        blind=draft.blind if draft else False,
        max_mb=f"{settings.ingest.max_file_bytes / 1_048_576:.0f}",
        max_files=MAX_FILES,
    )


async def _checked_form(request: Request) -> tuple[Viewer | None, FormData | None, Response | None]:
    viewer = current_viewer(request)
    if viewer is None:
        return None, None, sign_in_page(request, error="Sign in to continue.")
    form = await request.form(max_files=MAX_FILES + 2)
    if not csrf_ok(viewer.csrf, form.get("csrf")):
        return viewer, form, error_page(request, viewer, 403, "The form expired or was not sent from this site.")
    return viewer, form, None


@router.get("/evaluations/new")
async def new_form(request: Request) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    draft_id = request.query_params.get("draft")
    draft = await asyncio.to_thread(_drafts(request).get, draft_id, viewer.name) if draft_id else None
    return _form_page(request, viewer, draft)


async def _take_files(request: Request, drafts: Drafts, draft: Draft, uploads: list, errors: list[str]) -> None:
    limits = request.app.state.services.settings.ingest
    for upload in uploads:
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue  # the empty part a browser sends when no file was chosen
        name = safe_file_name(upload.filename)
        data = await upload.read(limits.max_file_bytes + 1)
        try:
            file_format = check_document_bytes(data, limits)
        except ReviewerError as exc:
            errors.append(f"{name}: {exc.message}")
            continue
        await asyncio.to_thread(drafts.add_file, draft, name, data, file_format)


async def _take_rubric(request: Request, form: FormData, draft: Draft, errors: list[str]) -> None:
    catalog: RubricCatalog = request.app.state.services.catalog
    chosen = str(form.get("rubric") or draft.rubric or "default")
    upload = form.get("rubric_file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(512 * 1024 + 1)
        try:
            chosen = await asyncio.to_thread(catalog.add_upload, data, upload.filename)
        except ReviewerError as exc:
            errors.append(f"Rubric file {exc.message}")
    draft.rubric = chosen


@router.post("/evaluations/new")
async def new_upload(request: Request) -> Response:
    """Step 1: the files are checked and kept in a draft; anything wrong shows the form again with what
    was kept, and nothing is queued. All good: on to the estimate."""
    viewer, form, refused = await _checked_form(request)
    if refused is not None:
        return refused
    assert viewer is not None and form is not None
    services = request.app.state.services
    drafts = _drafts(request)
    draft_id = str(form.get("draft") or "")
    draft = (
        await asyncio.to_thread(drafts.get, draft_id, viewer.name) if draft_id else None
    ) or await asyncio.to_thread(drafts.create, viewer.name)
    kept = set(form.getlist("keep"))
    for file in list(draft.files):
        if file.key not in kept:
            drafts.drop_file(draft, file.key)
    errors: list[str] = []
    await _take_files(request, drafts, draft, form.getlist("files"), errors)
    await _take_rubric(request, form, draft, errors)
    draft.backend = str(form.get("backend") or "") or None
    draft.blind = form.get("blind") == "on"
    if not draft.files and not errors:
        errors.append("Choose at least one proposal (PDF or Word .docx).")
    if len(draft.files) > MAX_FILES:
        errors.append(f"At most {MAX_FILES} proposals per evaluation; {len(draft.files)} were given.")
    try:  # an unknown rubric, or a backend that is unknown or not configured, is told at once
        ReviewTarget.resolve(services.settings, services.catalog, services.runner, draft.rubric, draft.backend)
    except ReviewerError as exc:
        if not any(e.startswith("Rubric file") for e in errors):
            errors.append(exc.message)
    await asyncio.to_thread(drafts.save, draft)
    if errors:
        return _form_page(request, viewer, draft, errors, status=422)
    return RedirectResponse(f"/web/evaluations/drafts/{draft.id}", status_code=303)


def _estimate_words(found) -> str:
    if found.offline:
        return "Free, offline: nothing is sent anywhere."
    if found.estimate is None:
        return f"No estimate for the {found.backend} backend: it is billed by its provider."
    return describe(found.estimate)


async def _draft_page(request: Request, viewer: Viewer, draft: Draft, errors: list[str], status: int = 200):
    services = request.app.state.services
    drafts = _drafts(request)
    try:
        target = ReviewTarget.resolve(services.settings, services.catalog, services.runner, draft.rubric, draft.backend)
    except ReviewerError as exc:  # e.g. the rubric file was removed since step 1
        return _form_page(request, viewer, draft, [exc.message], status=422)
    files = [(f.name, await asyncio.to_thread(drafts.read, draft, f)) for f in draft.files]
    found = await estimate_batch(services.runner, target, files)
    return page(
        request,
        viewer,
        "estimate.html",
        status,
        draft=draft,
        target=target,
        estimate=found,
        estimate_words=_estimate_words(found),
        errors=errors,
    )


@router.get("/evaluations/drafts/{draft_id}")
async def draft_estimate(request: Request, draft_id: str) -> Response:
    """Step 2: what will be reviewed, under which rubric and backend, what it costs; vendor names; start."""
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    draft = await asyncio.to_thread(_drafts(request).get, draft_id, viewer.name)
    if draft is None:
        return error_page(request, viewer, 404, "This new evaluation has expired or was started already.")
    if not draft.files:
        return RedirectResponse(f"{NEW_PATH}?draft={draft.id}", status_code=303)
    return await _draft_page(request, viewer, draft, [])


@router.post("/evaluations/drafts/{draft_id}")
async def draft_start(request: Request, draft_id: str) -> Response:
    """Step 3: every file queued through the core's batch intake (as POST /v1/batches queues), then the
    batch page. The draft is gone once the batch exists."""
    viewer, form, refused = await _checked_form(request)
    if refused is not None:
        return refused
    assert viewer is not None and form is not None
    services = request.app.state.services
    drafts = _drafts(request)
    draft = await asyncio.to_thread(drafts.get, draft_id, viewer.name)
    if draft is None:
        return error_page(request, viewer, 404, "This new evaluation has expired or was started already.")
    for file in draft.files:
        vendor = str(form.get(f"vendor-{file.key}") or "").strip()[:200]
        file.vendor = vendor or None
    await asyncio.to_thread(drafts.save, draft)
    try:
        target = ReviewTarget.resolve(services.settings, services.catalog, services.runner, draft.rubric, draft.backend)
    except ReviewerError as exc:
        return _form_page(request, viewer, draft, [exc.message], status=422)

    async def each():
        for file in draft.files:
            data = await asyncio.to_thread(drafts.read, draft, file)
            yield IncomingFile(name=file.name, data=data, vendor_name=file.vendor)

    record = await queue_batch(
        services.intake, services.store, target, each(), actor=viewer.name, anonymize=draft.blind, blind=draft.blind
    )
    await asyncio.to_thread(drafts.discard, draft.id)
    return RedirectResponse(f"/web/batches/{record.id}", status_code=303)


# ----- The comparison and its downloads


def _mandatory(request: Request) -> MandatoryPolicy:
    """`?mandatory=exclude` leaves proposals failing a mandatory RFP requirement out of the ranking; anything
    else flags them (the default, as everywhere)."""
    return "exclude" if request.query_params.get("mandatory") == "exclude" else "flag"


async def _comparison(request: Request, viewer: Viewer, batch_id: str) -> ev.ComparisonPage | Response:
    services = request.app.state.services
    try:
        data = await asyncio.to_thread(
            ev.comparison_page,
            services.store,
            services.catalog,
            batch_id,
            viewer.lead,
            _mandatory(request),
            services.proposals,
            viewer.name,
        )
    except ReviewerError as exc:  # e.g. the batch's rubric file was removed since
        return error_page(request, viewer, 422, exc.message)
    if data is None:
        return error_page(request, viewer, 404, f"There is no evaluation with the id {batch_id}.")
    return data


@router.get("/batches/{batch_id}")
async def batch(request: Request, batch_id: str) -> Response:
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    data = await _comparison(request, viewer, batch_id)
    if isinstance(data, Response):
        return data
    return page(request, viewer, "batch.html", data=data)


async def _finished_comparison(request: Request, batch_id: str, what: str) -> ev.ComparisonPage | Response:
    """The comparison behind a download, or the page saying why there is none (sign in, no such batch, not
    finished yet)."""
    viewer = current_viewer(request)
    if viewer is None:
        return sign_in_page(request)
    data = await _comparison(request, viewer, batch_id)
    if not isinstance(data, Response) and data.comparison is None:
        return error_page(request, viewer, 409, f"The {what} is ready once every review has finished.")
    return data


def _attachment(name: str) -> dict[str, str]:
    return HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/batches/{batch_id}/comparison.{fmt}")
async def download(request: Request, batch_id: str, fmt: Literal["csv", "xlsx", "html", "md"]) -> Response:
    data = await _finished_comparison(request, batch_id, "comparison")
    if isinstance(data, Response):
        return data
    c = data.comparison
    headers = _attachment(f"comparison-{batch_id}.{fmt}")
    if fmt == "csv":
        return PlainTextResponse(render_comparison.to_csv(c), media_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "md":
        return PlainTextResponse(
            render_comparison.to_markdown(c), media_type="text/markdown; charset=utf-8", headers=headers
        )
    if fmt == "html":
        return HTMLResponse(render_comparison.to_html(c), headers=headers)
    xlsx = await asyncio.to_thread(render_comparison.to_xlsx, c)
    return Response(
        xlsx, headers=headers, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


@router.get("/batches/{batch_id}/compliance.{fmt}")
async def download_compliance(request: Request, batch_id: str, fmt: Literal["csv", "xlsx"]) -> Response:
    data = await _finished_comparison(request, batch_id, "compliance matrix")
    if isinstance(data, Response):
        return data
    if not data.from_rfp:
        message = "This evaluation's rubric has no RFP requirements, so there is no compliance matrix."
        return error_page(request, current_viewer(request), 404, message)
    headers = _attachment(f"compliance-{batch_id}.{fmt}")
    if fmt == "csv":
        return PlainTextResponse(
            render_compliance.to_csv(data.comparison), media_type="text/csv; charset=utf-8", headers=headers
        )
    xlsx = await asyncio.to_thread(render_compliance.to_xlsx, data.comparison)
    return Response(
        xlsx, headers=headers, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
