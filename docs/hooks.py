"""mkdocs hooks: the getting-started page shows the lecture as it runs now, and pages may show
files kept outside docs/.

``<!-- lecture -->`` in a page becomes each cell of ``rustgrad._lecture.CELLS`` with what it
printed, run when the site is built, so the page can never drift from the code.
"""

import pathlib

MARKER = "<!-- lecture -->"
# Files outside docs/ that pages show (BENCHMARKS.md, included by benchmarks.md, links its plot).
EXTRA_FILES = ("benches/scaling.png",)


def _lecture_markdown():
    from rustgrad._lecture import CELLS, run_cell

    namespace = {"__name__": "__lecture__"}
    parts = []
    for number, (title, source) in enumerate(CELLS, 1):
        output = run_cell(source, namespace).rstrip("\n")
        parts.append(f"### {number}. {title}\n\n```python\n{source}\n```\n")
        if output:
            parts.append(f"```text\n{output}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, _lecture_markdown())
    return markdown


def on_files(files, config):
    from mkdocs.structure.files import File

    root = str(pathlib.Path(config.config_file_path).parent)
    for path in EXTRA_FILES:
        files.append(File(path, root, config.site_dir, config.use_directory_urls))
    return files
