"""Agent answers as the evaluator reads them: run folders and StableToolBench converted files."""

from toolsim.answers.loader import load_answer_sets
from toolsim.answers.models import Answer, AnswerSet, ToolStep, query_order

__all__ = ["Answer", "AnswerSet", "ToolStep", "load_answer_sets", "query_order"]
