"""An RFP's requirements, extracted and turned into a rubric a person edits before use."""
