"""Judging a question set's answers: the figures (metrics), a bound on them (gate), two runs side by side
(compare), and what a team reads (report, with its threshold plot). Answering the set is
assistant/evaluation/run.py's."""
