"""Shared by the episode tests: a notes tool with create/read/update/delete, its simulator,
a fake judge."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from toolsim.answers import Answer
from toolsim.cache.entry import Reply, Source
from toolsim.simulator.base import Simulation, SimulationRequest, register_simulator

NOTES_TOOL = {
    "tool_name": "Notes Hub",
    "tool_description": "Fictional notes service.",
    "title": "Notes Hub",
    "standardized_name": "notes_hub",
    "api_list": [
        {
            "name": "Create Note",
            "description": "Creates a note.",
            "method": "POST",
            "required_parameters": [
                {"name": "title", "type": "STRING", "description": "Title."},
                {"name": "body", "type": "STRING", "description": "Text."},
            ],
            "optional_parameters": [],
        },
        {
            "name": "Get Note",
            "description": "One note by id.",
            "method": "GET",
            "required_parameters": [{"name": "note_id", "type": "STRING", "description": "Id."}],
            "optional_parameters": [],
        },
        {
            "name": "Update Note",
            "description": "Changes a note's text.",
            "method": "POST",
            "required_parameters": [
                {"name": "note_id", "type": "STRING", "description": "Id."},
                {"name": "body", "type": "STRING", "description": "New text."},
            ],
            "optional_parameters": [],
        },
        {
            "name": "Delete Note",
            "description": "Deletes a note.",
            "method": "POST",
            "required_parameters": [{"name": "note_id", "type": "STRING", "description": "Id."}],
            "optional_parameters": [],
        },
    ],
}

CREATE = "create_note_for_notes_hub"
GET = "get_note_for_notes_hub"
UPDATE = "update_note_for_notes_hub"
DELETE = "delete_note_for_notes_hub"


def note_id(title: str) -> str:
    """The id the notes simulator gives a note of this title (the same in every episode)."""
    return "note-" + hashlib.sha256(title.encode()).hexdigest()[:8]


class NotesSimulator:
    """Plays the notes API, deterministically; knows nothing of any episode."""

    name = "notes"

    def __init__(self) -> None:
        self.calls: list[SimulationRequest] = []

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.calls.append(request)
        arguments = request.arguments
        api = request.api.name
        if api == "Create Note":
            response: Any = {
                "id": note_id(arguments["title"]),
                "title": arguments["title"],
                "body": arguments["body"],
            }
        elif api == "Get Note":
            response = {"id": arguments["note_id"], "title": "A note", "body": "the world's text"}
        elif api == "Update Note":
            # Plain text, naming nothing: the episode knows the note from the call alone.
            return Simulation(reply=Reply(response="updated"), simulator=self.name, model="notes")
        else:
            response = {"deleted": True}
        reply = Reply(response=json.dumps(response))
        return Simulation(reply=reply, source=Source.SIMULATED, simulator=self.name, model="notes")

    async def aclose(self) -> None:
        pass


@register_simulator("notes")
def _create_notes(**options: Any) -> NotesSimulator:
    return NotesSimulator()


class FakeRewards:
    """A reward judge: Solved when the answer names Lisbon; counts batches and answers."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.gate: asyncio.Event | None = None
        self.closed = False

    def identity(self) -> dict[str, Any]:
        return {"backend": "fake", "model": "lisbon-rule", "fingerprint": "none"}

    async def verdicts(self, answers: Sequence[Answer]) -> list[dict[str, Any]]:
        self.batches.append(len(answers))
        if self.gate is not None:
            await self.gate.wait()
        verdicts = []
        for answer in answers:
            solved = answer.finished and "Lisbon" in answer.final_answer
            verdicts.append(
                {
                    "label": "Solved" if solved else "Unsolved",
                    "reward": 1.0 if solved else 0.0,
                    "reason": "names Lisbon" if solved else "does not",
                    "evidence": [{"calls": len(answer.steps)}],
                }
            )
        return verdicts

    async def aclose(self) -> None:
        self.closed = True
