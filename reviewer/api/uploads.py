"""Reading an uploaded file within the size limit (the API's side of intake)."""

from fastapi import UploadFile

from reviewer.api.errors import ApiError


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "too_large", f"the file is over the limit of {max_bytes / 1_048_576:.1f} MB")
    return data
