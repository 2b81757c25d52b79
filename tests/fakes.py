"""Test doubles: a grading backend that returns whatever a test scripts."""

from reviewer.documents import Document
from reviewer.grading.base import RawGrading
from reviewer.rubric import Rubric


class ScriptedBackend:
    name = "scripted"
    offline = False

    def __init__(self, grading: RawGrading) -> None:
        self.grading = grading
        self.calls = 0

    async def grade(self, document: Document, rubric: Rubric) -> RawGrading:
        self.calls += 1
        return self.grading
