"""A screen whose engine calls run in thread workers and come back to named handlers."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from app.engine.runner import Engine

ResultType = TypeVar("ResultType")


class EngineScreen(Screen[ResultType]):
    """``run_job(name, job, *args)`` runs ``job(engine, *args)`` in a thread worker.

    On success the result goes to the handler registered under ``name`` in ``self.handlers``;
    on failure ``job_failed`` turns the exception into a message. Either way ``job_ended`` runs
    first, so a screen can release what the job held. The UI thread never waits on the host.
    """

    # What each job does, for messages: "<what> failed: <error>".
    WHAT: ClassVar[dict[str, str]] = {}

    def __init__(self, engine: "Engine") -> None:
        super().__init__()
        self.engine = engine
        self.handlers: dict[str, Callable[[Any], None]] = {}

    def run_job(self, name: str, job: Callable[..., Any], *args: Any, exclusive: bool = False) -> Worker:
        return self.run_worker(partial(job, self.engine, *args), name=name, group=name, thread=True,
                               exclusive=exclusive, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        name, state = event.worker.name, event.state
        if name not in self.handlers or state not in (WorkerState.SUCCESS, WorkerState.ERROR,
                                                      WorkerState.CANCELLED):
            return
        self.job_ended(name, state == WorkerState.SUCCESS)
        if state == WorkerState.SUCCESS:
            self.handlers[name](event.worker.result)
        elif state == WorkerState.ERROR:
            self.job_failed(name, event.worker.error)

    def job_ended(self, name: str, succeeded: bool) -> None:
        """Called first when a job ends, however it ended."""

    def job_failed(self, name: str, error: BaseException | None) -> None:
        """A failed job becomes a message that says what to do next, never a traceback."""
        self.notify(self.failure_text(name, error) + " Fix the cause and try again.",
                    severity="error", timeout=10)

    def failure_text(self, name: str, error: BaseException | None) -> str:
        from app.errors import describe_error

        return f"{self.WHAT.get(name, name)} failed: {describe_error(error) if error else 'no details'}."
