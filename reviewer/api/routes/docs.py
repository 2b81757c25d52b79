"""/docs and /openapi.json, behind the API key unless REVIEWER_API_PUBLIC_DOCS. Swagger UI's script and
stylesheet are served from the package (reviewer/api/static/swagger-ui, swagger-ui-dist 5.35.0,
Apache-2.0), so the page works on a machine without internet. The page carries the schema inline:
the browser's own fetch of /openapi.json would carry no key."""

import json
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from reviewer.api.deps import require_api_key

ASSETS = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
ASSETS_URL = "/docs/static"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="{base}/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/favicon-32x32.png">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  spec: {spec},
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
}});
</script>
</body>
</html>
"""


def _script_safe_json(value: object) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def mount_docs(app: FastAPI, *, public: bool) -> None:
    """Call on an app made with docs_url=None and openapi_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    router = APIRouter(include_in_schema=False, dependencies=[] if public else [Depends(require_api_key)])

    @router.get("/openapi.json")
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    def docs(request: Request) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/") + ASSETS_URL
        return HTMLResponse(PAGE.format(base=base, title=f"{app.title} API", spec=_script_safe_json(app.openapi())))

    app.include_router(router)
