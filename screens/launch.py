"""The ``hardstep`` program: the core's command line with the wizard plugged in.

The command line lives in ``app.cli`` and knows nothing of Textual; this entry point hands it the
function that opens the wizard, which imports the Textual app only when a wizard is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from app import cli

if TYPE_CHECKING:
    from app.engine.runner import Engine


def open_wizard(engine: "Engine") -> None:
    from screens.app import HardstepApp

    HardstepApp(engine).run()


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, wizard=open_wizard)


if __name__ == "__main__":
    raise SystemExit(main())
