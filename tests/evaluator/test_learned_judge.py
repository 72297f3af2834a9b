"""The learned judge: reproducible from the shared labels, honestly measured, the default.

Design floors (answered items of the four design methods, cross-validated, never on
training items): held-out methods 86% accuracy and kappa 0.70 (the shipped recipe
reaches 87.7% / 0.73), held-out queries 79% and kappa 0.54 (it reaches 80.8% / 0.57),
pass-rate error at most 3 points per held-out method (it reaches 2.2). The final test
(``protocol.FINAL_TEST_METHODS``, a model trained on the design methods alone) holds the
issue's goals: 87% and kappa 0.72 on answered items, pass-rate error at most 2.5 points
per method, Spearman over method x group cells 0.8, at most 5% of each probe kind Solved.
The one-line rule reaches 77.6% (kappa 0.39) there, with 15.6 points of pass-rate error.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.errors import UserError
from toolsim.evaluator import evaluate_pass_rate, evaluate_win_rate
from toolsim.evaluator.judging.factory import create_judge
from toolsim.evaluator.judging.learned import training
from toolsim.evaluator.judging.learned.features import FEATURES
from toolsim.evaluator.judging.learned.files import shipped_files
from toolsim.evaluator.judging.learned.judge import LearnedJudge
from toolsim.evaluator.judging.learned.protocol import FINAL_TEST_METHODS
from toolsim.evaluator.reports.writers import write_reports
from toolsim.settings import Settings

LABELS = "judge-labels"
CONVERTED = "stabletoolbench/data_example/model_predictions_converted"
FLOORS = {"method": (0.86, 0.70), "query": (0.79, 0.54)}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.slow
def test_training_reproduces_the_shipped_model_bit_for_bit(shared_data: Path, tmp_path) -> None:
    out = tmp_path / "judge"
    result = CliRunner().invoke(
        app, ["judge", "train", "--labels", str(shared_data / LABELS), "--out", str(out), "--no-cv"]
    )
    assert result.exit_code == 0, result.output
    shipped = shipped_files()
    assert _sha((out / "model.txt").read_text()) == _sha(shipped.model)
    assert (out / "known.tsv").read_text() == shipped.known
    assert len(shipped.model) < 600_000 and len(shipped.known) < 100_000  # 300 trees: 540 KB
    # a trained folder is a judge of its own
    judge = create_judge(Settings(home=tmp_path / "home", judge={"learned_model": out}))
    assert judge.identity().fingerprint == f"model sha256 {_sha(shipped.model)[:12]}"


_LOADED: dict[str, list[training.Example]] = {}


@pytest.fixture
def examples(shared_data: Path) -> list[training.Example]:
    """The shared labels, loaded once for the module (features take seconds)."""
    if "all" not in _LOADED:
        _LOADED["all"] = training.load_examples([shared_data / LABELS])
    return _LOADED["all"]


@pytest.mark.slow
def test_cross_validated_agreement_stays_above_the_floors(examples) -> None:
    splits = training.cross_validate(examples)
    for name, split in splits.items():
        print(
            f"held-out {name}: all {split.all.describe()}; answered {split.answered.describe()}; "
            f"novel {split.novel.describe()}; {split.ranking.describe()}"
        )
    assert not {e.answer.method for e in training.design(examples)} & set(FINAL_TEST_METHODS)
    for name, (least_accuracy, least_kappa) in FLOORS.items():
        answered = splits[name].answered
        assert answered.n > 2200  # the design methods' answered items only
        assert splits[name].ranking.max_error <= 3.0, splits[name].ranking.describe()
        assert answered.accuracy >= least_accuracy, (name, answered.describe())
        assert answered.kappa >= least_kappa, (name, answered.describe())
        assert splits[name].all.accuracy > answered.accuracy  # the rules decide the rest
    # the card that ships says the same
    import json

    card = json.loads(shipped_files().card)
    for name, split in splits.items():
        assert card["cross_validation"][name]["answered"]["accuracy"] == pytest.approx(
            split.answered.accuracy, abs=1e-4
        )


@pytest.mark.slow
def test_the_final_test_meets_the_goals_and_the_card_says_so(examples) -> None:
    """Trained on the design methods alone, measured on the frozen final-test methods."""
    import json

    final = training.final_test(examples)
    judge, rule = final.judge, final.rule
    print(f"final test: {judge.answered.describe()}; {judge.ranking.describe()}")
    print(f"rule: {rule.answered.describe()}; {rule.ranking.describe()}; probes {final.probes}")
    assert final.methods == FINAL_TEST_METHODS
    assert judge.answered.accuracy >= 0.87 and judge.answered.kappa >= 0.72
    assert judge.ranking.max_error <= 2.5 and judge.ranking.spearman_cells >= 0.8
    assert judge.answered.accuracy > rule.answered.accuracy + 0.05
    assert rule.ranking.max_error > 10  # the baseline's pass rates are far off
    for kind, (solved, n) in final.probes.items():
        assert n > 500 and solved <= 0.05 * n, kind
    kept, n = final.solved_kept
    assert kept >= 0.9 * n
    card = json.loads(shipped_files().card)
    assert card["final_test"]["learned"]["answered"]["accuracy"] == pytest.approx(
        judge.answered.accuracy, abs=1e-4
    )
    assert card["protocol"]["final_test_methods"] == list(FINAL_TEST_METHODS)


@pytest.mark.slow
def test_broken_features_fall_below_the_floor(examples) -> None:
    """The floors are tight enough that a judge without working features fails them."""
    blind = [
        training.Example(e.answer, e.soft, e.majority, e.key, (0.0,) * len(FEATURES), frozenset())
        for e in examples
    ]
    split = training.cross_validate(blind)["query"]
    assert split.answered.accuracy < FLOORS["query"][0]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")  # no judge configured: the learned one


def test_the_learned_judge_is_the_offline_default(shared_data: Path, settings, tmp_path) -> None:
    report = evaluate_pass_rate([shared_data / CONVERTED], runs=2, settings=settings)
    identity = report.judge.identity
    assert report.judge.model == "learned" and report.judge.calls == 0
    assert identity.backend == "learned" and identity.fingerprint.startswith("model sha256 ")
    assert "final test" in identity.agreement and "pass-rate error" in identity.agreement
    outcomes = report.entry("virtual_chatgpt_cot").groups["G1_instruction"].outcomes
    assert outcomes["588"][0].by == "rule" and outcomes["588"][0].probability is None
    judged = outcomes["1073"]
    assert judged[0].by == "learned" and 0.0 <= judged[0].probability <= 1.0
    assert judged[0] == judged[1]  # deterministic over runs
    # The reason reads as a sentence: the probability, the label, and the band that decided.
    label, chance = judged[0].label.value, f"{judged[0].probability:.3f}"
    assert f"solves the query at {chance}, so {label} (Unsolved under" in judged[0].reason
    assert report.noise_floor is not None
    written = write_reports(tmp_path / "out", pass_rate=report)
    with open(tmp_path / "out" / "pass_rate_queries.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["by"] for row in rows} <= {"rule", "learned", "grounding"}
    assert all(row["probability"] for row in rows if row["by"] == "learned")
    assert all(row["evidence"].startswith("calls ") for row in rows)
    page = next(path for path in written if path.name == "report.html").read_text()
    assert "model sha256" in page and "points between two systems are noise" in page


@pytest.mark.slow
def test_known_answers_get_the_reference_label(shared_data: Path, settings, examples) -> None:
    """Training answers get the majority of the reference runs of every identical answer."""
    from toolsim.evaluator.judging.learned.examples import known_verdicts
    from toolsim.evaluator.judging.learned.known import NO_MAJORITY, answer_key

    table = known_verdicts(examples)
    path = shared_data / LABELS / "toolllama_sft_cot" / "G1_tool.json"
    report = evaluate_pass_rate([path], runs=1, settings=settings)
    from toolsim.answers import load_answer_sets

    [answer_set] = load_answer_sets(path)
    known = 0
    for query_id, [outcome] in report.entries[0].groups["G1_tool"].outcomes.items():
        answer = answer_set.answers[query_id]
        expected = table.get(answer_key(answer)) if answer.finished else None
        if expected not in (None, NO_MAJORITY):
            assert outcome.by == "known" and outcome.label.value == expected
            known += 1
        else:
            assert outcome.by in ("rule", "learned", "grounding")
    assert known > 50  # most of the file: every answered one with a majority


def test_win_rate_goes_to_the_higher_probability(shared_data: Path, settings) -> None:
    report = evaluate_win_rate(
        shared_data / CONVERTED / "virtual_chatgpt_dfs",
        shared_data / CONVERTED / "virtual_chatgpt_cot",
        rounds=1,
        settings=settings,
    )
    judge = LearnedJudge.load()
    from toolsim.answers import load_answer_sets

    dfs = load_answer_sets(shared_data / CONVERTED / "virtual_chatgpt_dfs")[0].answers
    cot = load_answer_sets(shared_data / CONVERTED / "virtual_chatgpt_cot")[0].answers
    [[round_]] = [report.groups["G1_instruction"].rounds["1073"]]
    assert round_.by == "judge" and round_.reason.startswith("p(Solved)")
    higher = judge.probability(dfs["1073"]) > judge.probability(cot["1073"])
    assert round_.preference.value == ("win" if higher else "loss")


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read model.txt"):
        create_judge(
            Settings(home=tmp_path, judge={"backend": "learned", "learned_model": tmp_path})
        )


@pytest.mark.slow
def test_judging_many_answers_at_once_gives_each_its_own_probability(shared_data: Path) -> None:
    """Pass-rate judging prepares the learned judge with every answer first (one model call
    for all, :class:`BatchJudge`): each probability is the one the answer gets alone, bit for
    bit, and the verdicts then come from the prepared ones."""
    import asyncio

    from toolsim.answers import load_answer_sets
    from toolsim.evaluator.judging.base import BatchJudge, Judge
    from toolsim.evaluator.scoring.pass_rate import load_entries, pass_rate_of_entries

    folder = shared_data / LABELS / "baseline-eto_dfs" / "G1_tool.json"
    answers = [
        answer
        for answer_set in load_answer_sets(folder)
        for answer in answer_set.answers.values()
        if answer.finished
    ]
    alone, batch = LearnedJudge.load(), LearnedJudge.load()
    alone.known = batch.known = {}  # every answer through features and the model
    assert isinstance(batch, Judge) and isinstance(batch, BatchJudge)
    batch.prepare(answers)
    assert len(batch._memo) > 100
    for answer in answers:
        assert batch.probability(answer) == alone.probability(answer)

    judge = LearnedJudge.load()
    judge.known = {}
    entries, _ = load_entries([folder])
    asyncio.run(pass_rate_of_entries(entries, 1, judge))
    assert judge._memo == batch._memo
