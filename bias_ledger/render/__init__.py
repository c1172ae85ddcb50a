"""Renderers of result objects: terminal (rich), Markdown, HTML, JUnit, GitHub; none computes."""
