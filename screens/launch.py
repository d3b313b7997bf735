"""The ``hardstep`` program: the core's command line with the wizard plugged in.

The command line lives in ``app.cli`` and knows nothing of Textual; this entry point hands it the
function that opens the wizard, which imports the Textual app only when a wizard is opened.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Sequence

from app import cli

if TYPE_CHECKING:
    from app.engine.runner import Engine


def open_wizard(engine: "Engine") -> None:
    # No garbage collection while Textual loads and draws the first frame: loading allocates much
    # and frees next to nothing (77 collections freed 430 of some 35,000 objects), yet those
    # collections took about a tenth of the time to that frame. The app turns the collector back
    # on once its first frame is out (HardstepApp.on_mount).
    gc.disable()
    from screens.app import HardstepApp

    HardstepApp(engine).run()


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, wizard=open_wizard)


if __name__ == "__main__":
    raise SystemExit(main())
