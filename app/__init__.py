"""The end-to-end app: one pipeline (pipeline.py) behind a Gradio UI (ui.py, `python -m app`) and a CLI (cli.py)."""
