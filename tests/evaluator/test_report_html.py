"""The HTML report: self-contained, every table and chart present, and it renders in Chromium."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from answers.converted_files import entry, record, write_run
from judge_script import marks, preferred, verdict
from support import require_program

from toolsim.evaluator import evaluate_pass_rate, evaluate_win_rate, render_html, write_reports


class Elements(HTMLParser):
    """Counts tags, collects table classes and external references."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.tables: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        values = dict(attrs)
        if tag == "table":
            self.tables.append(values.get("class") or "")
        for name in ("src", "href"):
            if values.get(name):
                self.external.append(values[name] or "")


def _elements(text: str) -> Elements:
    parser = Elements()
    parser.feed(text)
    return parser


@pytest.fixture
def reports(tmp_path: Path, judge_settings, script):
    runs = []
    for name, budget in (("plain-1", None), ("plain-2", None), ("<i>budgeted", 10)):
        entries = {str(q): entry(f"q{q}", f"[[a{q}]]") for q in range(4)}
        records = {str(q): record(str(q), "G1_tool", cost=4 * q, budget=budget) for q in range(4)}
        runs.append(write_run(tmp_path / name, "G1_tool", entries, records, budget=budget))
    script.respond = lambda kind, user, run: (
        preferred("A")
        if kind == "compare"
        else verdict("Solved" if "a1" in marks(user) else "Unsure")
    )
    passes = evaluate_pass_rate(runs, runs=2, settings=judge_settings)
    wins = evaluate_win_rate(runs[0], runs[2], rounds=2, settings=judge_settings)
    return passes, wins


def test_report_holds_tables_and_charts_and_nothing_external(reports) -> None:
    passes, wins = reports
    page = render_html([passes], [wins], title="combo <check>")
    found = _elements(page)
    assert found.tags.get("script", 0) == 0 and found.external == []
    assert {"setup", "pass-rate", "budget", "pass-k", "win-rate"} <= set(found.tables)
    assert page.count('<details class="query">') == 3 * 4  # every query of every answer set
    # pass-rate bars, cost scatter and win stack, each once: the win report's own pass
    # rates are the same answer sets, shown in the one pass-rate section
    assert found.tags["svg"] == 3
    assert page.count("<h2>Solvable Pass Rate</h2>") == 1 and page.count('class="budget"') == 1
    assert "&lt;i&gt;budgeted" in page and "<i>budgeted" not in page
    assert "combo &lt;check&gt;" in page


def test_several_reports_compare_in_one_page(reports) -> None:
    passes, _ = reports
    page = render_html([passes, passes])
    assert page.count('class="pass-rate"') == 1  # one comparison table for all entries
    # every entry of every report is a series of the one bar chart
    assert page.count(">plain-1</text>") == 2 and page.count("<svg") == 2


def _chromium() -> str:
    return require_program(
        ("chromium", "chromium-browser", "google-chrome"),
        "TOOLSIM_REQUIRE_CHROMIUM",
        "apt-get install chromium",
    )


@pytest.mark.slow
def test_report_renders_in_headless_chromium(reports, tmp_path: Path) -> None:
    browser = _chromium()
    passes, wins = reports
    [*_, html] = write_reports(tmp_path / "out", pass_rate=passes)
    assert html.name == "report.html"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    command += [f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html.as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = _elements(result.stdout)
    assert {"setup", "pass-rate", "budget", "pass-k"} <= set(dom.tables)
    assert dom.tags["details"] >= 3 * 4  # a panel per query, and one per answer set
    assert dom.tags["svg"] == 2 and dom.tags["rect"] >= 3 * 2 and dom.tags["circle"] >= 2
    screenshot = tmp_path / "report.png"
    command[-2:] = [f"--screenshot={screenshot}", "--window-size=1000,1600", html.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_says_first_what_produced_its_numbers(reports) -> None:
    passes, wins = reports
    page = render_html([passes], [wins])
    setup = page[page.index("<h2>Setup</h2>") : page.index("<h2>Solvable Pass Rate</h2>")]
    assert "test-model" in setup  # the agent's model, from run.json
    assert "budgeted" in setup and ">10" in setup  # the budget of the budgeted run
    assert "scripted" in setup  # the judge, with its identity
    assert page.index("<h2>Setup</h2>") < page.index("<h2>Solvable Pass Rate</h2>")
    assert "embedded toy model" not in page  # no role played by it here


def test_a_banner_says_when_the_embedded_toy_model_played_a_role(
    tmp_path: Path, judge_settings, script
) -> None:
    entries = {"1": entry("q1", "a")}
    run = write_run(
        tmp_path / "toy",
        "G1_tool",
        entries,
        {"1": record("1", "G1_tool")},
        agent_model="SmolLM2-135M-Instruct",
        simulator={"backend": "auto", "model": "SmolLM2-135M-Instruct", "embedded": True},
    )
    page = render_html([evaluate_pass_rate([run], runs=1, settings=judge_settings)])
    banner = page[page.index('class="banner"') : page.index("<h2>Setup</h2>")]
    assert "played the agent and the simulator" in banner


def test_per_query_panels_show_the_query_answer_verdicts_and_calls(reports) -> None:
    passes, _ = reports
    result = passes.entries[0].groups["G1_tool"]
    result.evidence = {"1": "2 of 3 facts in the answer came from tool replies"}  # issue 21's
    page = render_html([passes])
    panel = page[page.index('<details class="query"><summary>1 ') :]
    panel = panel[: panel.index("</details>")]
    assert "q1" in panel and "[[a1]]" in panel  # the query and the final answer
    assert "run 1:" in panel and "run 2:" in panel  # every judge run, with its reason
    assert "2 of 3 facts in the answer came from tool replies" in panel
    assert "Calls (0)" in panel


def test_the_cost_plot_names_series_in_a_legend_not_over_the_points(reports) -> None:
    passes, _ = reports
    page = render_html([passes])
    chart = page[page.index('aria-label="cost"') :]
    chart = chart[: chart.index("</svg>")]
    assert "budgeted PR</text>" not in chart and "budgeted PBC</text>" not in chart
    assert "PR (filled)" in chart and "PBC (ring)" in chart and "&lt;i&gt;budgeted" in chart
