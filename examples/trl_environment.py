"""toolsim episodes as a TRL environment (``GRPOTrainer(environment_factory=...)``).

TRL gives each rollout its own environment object: ``reset(**row)`` starts it (its
return text is appended to the prompt), every public method is a tool the model
may call, and ``get_reward()`` scores the rollout. Here each rollout is one toolsim
episode, so rollouts never see each other's changes and the reward is the judge's.

    toolsim serve --port 8080 &
    python examples/trl_environment.py http://127.0.0.1:8080   # a scripted rollout, no torch

Training (needs torch, transformers >= 5.2 and a tool-calling model)::

    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    rows = [{"prompt": [{"role": "user", "content": "Solve the task."}], "seed": s}
            for s in range(64)]
    trainer = GRPOTrainer(
        model="Qwen/Qwen3-0.6B",
        train_dataset=Dataset.from_list(rows),
        environment_factory=ToolsimEnvironment,
        args=GRPOConfig(max_completion_length=512),
    )
    trainer.train()
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import httpx

#: Where the toolsim server is (``TOOLSIM_ENV_URL``).
BASE_URL = os.environ.get("TOOLSIM_ENV_URL", "http://127.0.0.1:8080")


class ToolsimEnvironment:
    """One toolsim episode per rollout, over the episode REST protocol."""

    def __init__(self, base_url: str = BASE_URL) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=300)
        self.episode_id: str | None = None
        self.answer = ""

    def reset(self, **row: Any) -> str:
        """Open a new episode (closing the last); the task and its tools, for the prompt.

        A dataset row may name a task (``group`` and ``query_id``, or ``query`` with
        ``tools``) and ``seed``/``budget``; the rest of the row is ignored.
        """
        self._close()
        wanted = ("group", "query_id", "query", "tools", "functions", "seed", "budget", "costs")
        body = {key: row[key] for key in wanted if row.get(key) is not None}
        opened = self.http.post("/v1/episodes", json=body)
        opened.raise_for_status()
        episode = opened.json()
        self.episode_id, self.answer = episode["episode_id"], ""
        listed = "\n".join(
            f"- {tool['function']['name']}: {tool['function']['description'][:200]} "
            f"arguments: {json.dumps(tool['function']['parameters']['properties'])}"
            for tool in episode["tools"]
        )
        return (
            f"Task: {episode['query']}\n\nTools (call them with call_tool):\n{listed}\n\n"
            "When you know the answer, call final_answer."
        )

    def call_tool(self, name: str, arguments: str) -> str:
        """Call one of the task's tools.

        Args:
            name: The tool's function name, as listed in the task.
            arguments: The tool's arguments, as a JSON object.
        """
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            return json.dumps({"error": f"arguments are not JSON: {exc}", "response": ""})
        reply = self.http.post(
            f"/v1/tools/{name}", json=parsed, headers={"X-Toolsim-Episode": self._episode()}
        )
        body = reply.json()
        if reply.status_code != 200:  # over budget, not a tool of the task, bad arguments
            return json.dumps({"error": body["error"]["message"], "response": ""})
        return json.dumps(body, ensure_ascii=False)

    def final_answer(self, answer: str) -> str:
        """Give the final answer to the task (ends the rollout).

        Args:
            answer: The complete answer for the user.
        """
        self.answer = answer
        return "Answer recorded."

    def get_reward(self) -> float:
        """The judge's reward for the final answer (0 without one)."""
        verdict = self.http.post(
            f"/v1/episodes/{self._episode()}/verify",
            json={"answer": self.answer, "give_up": not self.answer},
        )
        verdict.raise_for_status()
        reward = verdict.json().get("reward")
        return float(reward) if reward is not None else 0.0

    def _episode(self) -> str:
        if self.episode_id is None:
            raise RuntimeError("reset() first")
        return self.episode_id

    def _close(self) -> None:
        if self.episode_id is not None:
            self.http.delete(f"/v1/episodes/{self.episode_id}")
            self.episode_id = None


def scripted_rollout(base_url: str, seed: int = 0) -> float:
    """What a trainer does with one environment, with a scripted policy in place of a model."""
    env = ToolsimEnvironment(base_url)
    try:
        prompt = env.reset(seed=seed)
        first = prompt.split("\n- ", 1)[1].split(":", 1)[0]
        observation = env.call_tool(first, json.dumps({"city": "Lisbon"}))
        env.final_answer(f"From {first}: {observation[:200]}")
        return env.get_reward()
    finally:
        env._close()
        env.http.close()


if __name__ == "__main__":
    print(f"reward: {scripted_rollout(sys.argv[1] if len(sys.argv) > 1 else BASE_URL)}")
