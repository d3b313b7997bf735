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


def test_every_import_names_something_that_exists():
    """Function-level imports run only when their code does: a moved name must fail here first."""
    import ast
    import importlib

    missing = []
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("screens/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] in ("app", "screens"):
                module = importlib.import_module(node.module)
                missing += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                            if not hasattr(module, a.name) and not (hasattr(module, "__path__") and
                            importlib.util.find_spec(f"{node.module}.{a.name}"))]
    assert missing == []
