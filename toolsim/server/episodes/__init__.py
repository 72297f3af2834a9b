"""Episodes: per-rollout state for reinforcement learning and agent evaluation harnesses.

``POST /v1/episodes`` opens one (a task and a seed); tool calls name it (the
``X-Toolsim-Episode`` header on ``/virtual`` and REST, ``?episode=`` or the header
on ``/mcp``, the connection on the OpenEnv front ``/ws``); ``POST .../verify``
gives the reward; ``DELETE`` ends it. See :mod:`toolsim.server.episodes.manager`.
"""

from toolsim.server.episodes.manager import Episodes, episodes_of
from toolsim.server.episodes.rewards import RewardJudge, Rewards

#: The header a tool call names its episode with (on ``/virtual``, REST and ``/mcp``).
HEADER = "x-toolsim-episode"

__all__ = ["HEADER", "Episodes", "RewardJudge", "Rewards", "episodes_of"]
