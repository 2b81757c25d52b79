"""Warnings attached to a document or a review: a code a program can act on, a sentence a person reads."""

from pydantic import BaseModel, Field


class ReviewWarning(BaseModel):
    code: str = Field(description="Machine-readable, e.g. 'image_only_pages', 'prompt_injection'.")
    message: str
    pages: list[int] = Field(default_factory=list, description="1-based pages the warning is about.")
