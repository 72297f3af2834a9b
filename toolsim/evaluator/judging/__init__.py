"""Judging answers: grounding signals shared by every judge (more judges move here)."""
