"""The settings form: one input per config key, a tab per section, checked as you type.

A tab per section keeps the screen small: Textual lays out only the visible tab, so typing stays
quick with every key of every step in the form.

Save writes the file in a worker and only then gives the engine the new config; Cancel leaves
the engine and the file exactly as they were.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static, TabbedContent, TabPane

from app.assets import asset_path
from app.config import settings as core_config
from app.errors import ConfigError
from screens import jobs
from screens.base import EngineScreen

if TYPE_CHECKING:
    from app.engine.runner import Engine


def input_id(spec: core_config.Field) -> str:
    """``[docker] private_network`` -> ``field-docker-private-network`` (kebab-case ids)."""
    return f"field-{spec.section}-{spec.key}".replace("_", "-")


def as_text(spec: core_config.Field, value: Any) -> str:
    """How a value reads in an input: a command as a shell line, other lists as ``a, b``."""
    if isinstance(value, list):
        return shlex.join(value) if spec.kind == "argv" else ", ".join(map(str, value))
    return str(value)


def from_text(spec: core_config.Field, text: str) -> Any:
    """The typed value for ``spec`` from what was typed, by the type of its default.

    Raises ConfigError naming the key when the text cannot be that type; ``check_value`` then
    judges the value itself.
    """
    kind = type(spec.default)
    try:
        if kind is list:
            return shlex.split(text) if spec.kind == "argv" else [
                part.strip() for part in text.split(",") if part.strip()]
        if kind in (int, float):
            return kind(text.strip())
    except ValueError as exc:  # "soon" for a number, or an unclosed quote in a command
        word = {int: "a whole number", float: "a number"}.get(kind, f"a command ({exc})")
        raise ConfigError(f"config: {spec.name} = {text!r} is not {word}") from None
    return text


class SettingsScreen(EngineScreen[bool]):
    """Answers True when the new settings were saved, False when nothing changed."""

    CSS_PATH = str(asset_path("settings.tcss"))  # loaded when first shown, not at start-up
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    WHAT = {"save": "Saving the settings"}

    def __init__(self, engine: "Engine") -> None:
        super().__init__(engine)
        self.handlers = {"save": self._saved}
        self._fields = {input_id(spec): spec for spec in core_config.FIELDS}

    def compose(self) -> ComposeResult:
        yield Static("Settings", id="settings-title")
        yield Static("Every value is checked as you type. Tab moves between fields; ctrl+s saves; "
                     "Escape cancels and changes nothing.", id="settings-intro")
        with TabbedContent(id="settings-form"):
            for section, fields in self._sections().items():
                with TabPane(section, id=f"section-{section}"):
                    with VerticalScroll(classes="settings-pane"):
                        yield from self._rows(fields)
        with Horizontal(id="settings-buttons"):
            yield Button("Save (ctrl+s)", id="settings-save", variant="primary")
            yield Button("Cancel (esc)", id="settings-cancel")
        yield Footer()

    def _sections(self) -> dict[str, dict[str, core_config.Field]]:
        """Fields grouped by section, sections in the order they first appear in FIELDS."""
        sections: dict[str, dict[str, core_config.Field]] = {}
        for field_id, spec in self._fields.items():
            sections.setdefault(spec.section, {})[field_id] = spec
        return sections

    def _rows(self, fields: dict[str, core_config.Field]) -> ComposeResult:
        """Per field: the key and its editor on one line, the help under it, room for an error."""
        for field_id, spec in fields.items():
            with Horizontal(classes="settings-row"):
                yield Label(spec.key, classes="settings-key", markup=False)
                yield self._editor(field_id, spec)
            yield Static(spec.help, classes="settings-help", markup=False)
            yield Static("", id=f"{field_id}-error", classes="settings-error", markup=False)

    def _editor(self, field_id: str, spec: core_config.Field) -> Widget:
        """A checkbox for a yes/no setting, an input for everything else."""
        value = self.engine.config.value(spec.section, spec.key)
        if isinstance(spec.default, bool):
            # The label says yes or no too: without colour a ticked X looks like an unticked one.
            return Checkbox("yes" if value else "no", value=bool(value), id=field_id, compact=True)
        hint = {"argv": "a command, as you would type it", "list": "comma-separated, may be empty"}.get(
            spec.kind if spec.kind == "argv" else type(spec.default).__name__, as_text(spec, spec.default))
        return Input(as_text(spec, value), id=field_id, compact=True, placeholder=hint)

    def value_of(self, field_id: str) -> Any:
        """The typed value of one field as it stands in the form."""
        editor = self.query_one(f"#{field_id}")
        if isinstance(editor, Checkbox):
            return editor.value
        return from_text(self._fields[field_id], editor.value)

    def on_mount(self) -> None:
        for error in self.query(".settings-error"):
            error.display = False
        for box in self.query(Input):
            box.cursor_blink = False  # a blinking cursor redraws twice a second: noise over SSH

    # --- validation ------------------------------------------------------------------------
    def validate_field(self, field_id: str) -> str | None:
        """Check one input; show the error next to it. Returns the error, None when valid."""
        spec = self._fields[field_id]
        try:
            core_config.check_value(spec.section, spec.key, self.value_of(field_id))
            message = None
        except ConfigError as exc:
            message = str(exc)
        # Touch the form only when the verdict changed: each change lays out every field again,
        # which made typing lag by a tenth of a second per key.
        editor = self.query_one(f"#{field_id}")
        if message is None and not editor.has_class("-invalid"):
            return None
        error = self.query_one(f"#{field_id}-error", Static)
        error.update(f"✗ {message}" if message else "")
        error.display = message is not None
        editor.set_class(message is not None, "-invalid")
        return message

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in self._fields:
            self.validate_field(event.input.id)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = "yes" if event.value else "no"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter checks the field and, when it is valid, moves on (a form for the keyboard)."""
        if event.input.id in self._fields and self.validate_field(event.input.id) is None:
            self.focus_next()

    # --- save and cancel -------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "settings-save":
            self.action_save()
        elif event.button.id == "settings-cancel":
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        invalid = [field_id for field_id in self._fields if self.validate_field(field_id)]
        if invalid:
            self.query_one(TabbedContent).active = f"section-{self._fields[invalid[0]].section}"
            self.call_after_refresh(self.query_one(f"#{invalid[0]}").focus)
            self.notify(f"Nothing was saved: fix the {len(invalid)} marked field(s) first.",
                        severity="error")
            return
        config = self.engine.config
        for field_id, spec in self._fields.items():
            value = self.value_of(field_id)
            if value != config.value(spec.section, spec.key):
                config = config.with_value(spec.section, spec.key, value)
        self.query_one("#settings-save", Button).disabled = True
        self.run_job("save", jobs.save_settings, config, exclusive=True)

    def job_ended(self, name: str, succeeded: bool) -> None:
        self.query_one("#settings-save", Button).disabled = False

    def _saved(self, config: core_config.Config) -> None:
        """The file is written: only now does the engine get the new settings."""
        self.engine.config = config
        self.notify(f"Settings saved to {config.path}.")
        self.dismiss(True)

    def job_failed(self, name: str, error: BaseException | None) -> None:
        self.notify(self.failure_text(name, error) + " Nothing changed; fix the cause (permissions, "
                    "disk space) and press ctrl+s again.", severity="error", timeout=10)
