"""A step's plan: each change with its summary, the equivalent shell commands and the diff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Static

if TYPE_CHECKING:
    from app.engine.actions import Action
    from app.config.settings import Field
    from app.engine.runner import Plan


def notes_content(notes: list[str]) -> Content:
    """The plan's warnings, each on its own line, marked so they read without colour too."""
    return Content("\n").join(Content.assemble(("! Warning: ", "bold $text-warning"), note) for note in notes)


def diff_content(diff: str) -> Content:
    """A unified diff with added lines in the success tone and removed lines in the error tone."""
    lines = [Content.styled(line, {"+": "$text-success", "-": "$text-error"}.get(line[:1], "$foreground-muted"))
             for line in diff.splitlines()]
    return Content("\n").join(lines)


def plan_notes(plan: "Plan") -> list[str]:
    """The plan's warnings. (``Plan.notes`` is newer than some engines this UI may meet.)"""
    return list(getattr(plan, "notes", []) or [])


class ActionList(Vertical):
    """Numbered changes. Commands and diffs are indented blocks, so wrapped lines stay indented."""

    # The Plan tab's widgets carry their rules: parsed when first mounted, after the first frame.
    DEFAULT_CSS = """
    ActionList {
        height: auto;
    }
    .plan-summary {
        margin: 1 0 0 0;
    }
    .plan-command, .plan-diff {
        padding: 0 0 0 3;
    }
    """

    def __init__(self, actions: list["Action"], **kwargs) -> None:
        super().__init__(**kwargs)
        self._actions = actions

    def compose(self) -> ComposeResult:
        for number, action in enumerate(self._actions, 1):
            described = action.describe()
            yield Static(Content.assemble((f"{number}. ", "bold"), (described["summary"], "bold")),
                         classes="plan-summary")
            if described["command"]:
                commands = [Content.assemble(("$ ", "$foreground-muted"), (line, "$text-accent"))
                            for line in described["command"].splitlines()]
                yield Static(Content("\n").join(commands), classes="plan-command")
            if described["diff"]:
                yield Static(diff_content(described["diff"]), classes="plan-diff")


class PlanView(Vertical):
    """Shows the plan of the selected step, or why there is none."""

    DEFAULT_CSS = """
    PlanView {
        height: auto;
        padding: 1 1 0 0;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="plan-message")

    def _message(self, content: Content, actions: list["Action"] | None = None,
                 notes: list[str] = ()) -> None:
        self.query_one("#plan-message", Static).update(notes_content(notes) + "\n\n" + content
                                                       if notes else content)
        for old in self.query(ActionList):
            old.remove()
        if actions:
            self.mount(ActionList(actions, classes="plan-actions"))

    def show_loading(self, title: str) -> None:
        self._message(Content.assemble("Working out what ", (title, "bold"), " would change…"))

    def show_plan(self, plan: "Plan") -> None:
        notes = plan_notes(plan)
        if not plan.applicable.ok:
            self._message(Content.assemble(("Does not apply to this host: ", "bold"), plan.applicable.reason))
        elif plan.empty:
            self._message(Content.assemble(("Nothing to do: ", "bold"),
                                           "this host already has it. Press v to run the live checks."),
                          notes=notes)
        else:
            count = len(plan.actions)
            self._message(Content.assemble((f"{count} change{'s' if count > 1 else ''}", "bold"),
                                           " (press a to apply; you confirm first):"), plan.actions, notes)

    def show_error(self, message: str) -> None:
        self._message(Content.assemble(("No plan: ", "bold $text-error"), message))


def option_label(spec: "Field", value: bool) -> str:
    return f"{spec.key}: {'yes' if value else 'no'}"


class PlanOptions(Vertical):
    """The step's yes/no settings (``Step.options``), ticked right in the plan.

    Ticking one posts ``Toggled``; the screen saves the setting and makes the plan again. The
    label says "yes" or "no" as well, because without colour a checkbox's X looks the same
    ticked or not.
    """

    DEFAULT_CSS = """
    PlanOptions {
        height: auto;
        padding: 1 1 0 0;
    }
    .plan-option-help {
        color: $text-muted;
        padding: 0 0 0 4;
    }
    """

    class Toggled(Message):
        def __init__(self, section: str, key: str, value: bool) -> None:
            super().__init__()
            self.section, self.key, self.value = section, key, value

    def show(self, options: list[tuple["Field", bool]]) -> None:
        """Redraw the boxes; the same options are updated in place, so the focus stays put."""
        boxes = list(self.query(Checkbox))
        if [box.name for box in boxes] == [f"{spec.section}.{spec.key}" for spec, _ in options]:
            for box, (spec, value) in zip(boxes, options):
                with box.prevent(Checkbox.Changed):
                    box.value = value
                box.label = option_label(spec, value)
            return
        self.remove_children()
        self.display = bool(options)
        if options:
            self.mount(Static("Options (Tab to reach, Space to tick):", classes="plan-options-title"))
            for spec, value in options:
                self.mount(Checkbox(option_label(spec, value), value=value, compact=True,
                                    name=f"{spec.section}.{spec.key}"),
                           Static(spec.help, classes="plan-option-help", markup=False))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        section, _, key = (event.checkbox.name or "").partition(".")
        self.post_message(self.Toggled(section, key, event.value))
