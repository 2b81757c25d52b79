"""What an RFP asks for: requirements with their clause number, strength and verbatim source."""

from typing import Literal

from pydantic import BaseModel, Field

Strength = Literal["must", "should", "may"]
WEIGHTS: dict[str, float] = {"must": 3, "should": 2, "may": 1}


class Requirement(BaseModel):
    reference: str | None = Field(default=None, description="The RFP's clause number: '3.2.1', 'A.4', 'R-12'.")
    text: str = Field(min_length=1, description="The requirement in the RFP's own words.")
    strength: Strength
    page: int = Field(ge=1)
    quote: str = Field(min_length=1, description="Verbatim from the RFP page; verified before use.")
    section: str | None = Field(default=None, description="The heading it stands under: '3.2 Security'.")
    passage: int | None = Field(
        default=None, description="The paragraph, clause, list or table row it was read from (offline reading order)."
    )
    prioritised: bool = Field(default=False, description="Read from a table row with its own priority cell.")
    group: str | None = Field(
        default=None, description="A label the extractor gave to closely related requirements (Claude, --group)."
    )

    @property
    def mandatory(self) -> bool:
        return self.strength == "must"


STRENGTH_ORDER: tuple[Strength, ...] = ("must", "should", "may")


def strongest(strengths: list[Strength]) -> Strength:
    return min(strengths, key=STRENGTH_ORDER.index)


class RequirementGroup(BaseModel):
    """Closely related requirements graded as one criterion; every member keeps its own source."""

    members: list[Requirement] = Field(min_length=1)
    section: str | None = None

    @property
    def strength(self) -> Strength:
        """The strongest member's: a group holding a 'must' is mandatory."""
        return strongest([m.strength for m in self.members])

    @property
    def mandatory(self) -> bool:
        return self.strength == "must"


class DroppedRequirement(BaseModel):
    requirement: Requirement
    reason: str


class Extraction(BaseModel):
    """The result of reading one RFP: requirements whose quotes verified, and the ones that did not."""

    file_name: str
    method: Literal["offline", "anthropic"]
    requirements: list[Requirement]
    dropped: list[DroppedRequirement] = Field(default_factory=list)
