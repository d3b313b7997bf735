"""The layout rules the import-linter contracts in pyproject.toml do not cover: no import cycle
between modules (function-level imports count, type hints do not), and files a reader can take in."""

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 300


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("app", "screens", exclude_type_checking_imports=True)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join((module, *back)))
    assert cycles == []


def test_modules_stay_short():
    long = {str(p.relative_to(ROOT)): n for p in [*ROOT.glob("app/**/*.py"), *ROOT.glob("screens/**/*.py")]
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
