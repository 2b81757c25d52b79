"""Measuring any grading backend on labelled documents: datasets, metrics, and the run itself."""
