"""/v1/rubrics: the rubrics reviews can use."""

from fastapi import APIRouter

from reviewer.api.deps import CatalogDep
from reviewer.api.schemas import RubricSummary, error_responses
from reviewer.rubric import Rubric

router = APIRouter(prefix="/v1/rubrics", tags=["rubrics"])


@router.get("", response_model=list[RubricSummary], summary="Rubrics available to reviews")
def list_rubrics(catalog: CatalogDep) -> list[RubricSummary]:
    summaries = []
    for name, rubric in catalog.usable():
        summaries.append(
            RubricSummary(
                name=name, id=rubric.id, version=rubric.version, title=rubric.title, criteria=len(rubric.criteria)
            )
        )
    return summaries


@router.get("/{name}", response_model=Rubric, responses=error_responses(404), summary="One rubric")
def get_rubric(name: str, catalog: CatalogDep) -> Rubric:
    return catalog.load(name)
