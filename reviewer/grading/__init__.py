"""Grading backends: each turns (Document, Rubric) into raw findings; the pipeline does the rest."""
