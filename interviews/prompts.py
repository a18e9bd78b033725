"""Prompt templates: persona + health record → system message and first question.

Templates are Jinja2 with `StrictUndefined`, so a template that names a field a record lacks is
a clear error instead of a silently empty prompt. Every template (a file, the defaults, a
protocol's questions) renders in Jinja2's immutable sandbox: a template comes from whoever wrote
the file, and outside the sandbox `{{ cycler.__init__.__globals__.os }}` reaches the shell and the
environment (API keys). The sandbox refuses such attributes, and changing the records. The
defaults (in `interviews/templates/`) render every field of the persona and the health record,
whatever their shape, so they suit any input. Templates see `persona`, `health_record` and
`persona_id`.

Rendering is the hot loop of `prepare` (one system message per interview), so two common
template shapes skip Jinja's per-render machinery (a new context, a generator, one yield per
piece) while producing exactly the text Jinja would:
- literal text only (the default question): rendered once, at load;
- literal text and `{% for key, value in persona.items() %}` / `health_record.items()` loops
  whose bodies are literal text, `{{ key | label }}` and `{{ value | describe }}` (the default
  system message): the template's own pieces, joined in plain Python.
Any other template is rendered by Jinja. Tests compare both paths on many record shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from interviews.errors import InputError
from interviews.personas import PersonaRecord
from interviews.protocol import Protocol

DEFAULT_SYSTEM_TEMPLATE = "system_message.j2"
DEFAULT_QUESTION_TEMPLATE = "first_question.j2"


# Keys that name the thing an object describes; such an object reads "Metformin (dose: ...)".
_HEAD_KEYS = frozenset({"name", "substance", "test", "date", "condition", "drug", "title"})
_LABEL_CACHE_SIZE = 4096  # the same few field names recur in every record


@lru_cache(maxsize=_LABEL_CACHE_SIZE)
def label(key: Any) -> str:
    """Turn a field name into a label: `recent_encounters` → `Recent encounters`."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class _InlineLabels(dict):
    """Field name → `label(name).lower()`, remembered (a dict lookup is cheaper than a cached
    call, and this runs for every key of every nested object)."""

    def __missing__(self, key: Any) -> str:
        text = label(key).lower()
        if len(self) < _LABEL_CACHE_SIZE:  # bounded, like label's cache
            self[key] = text
        return text


_INLINE_LABELS = _InlineLabels()


def describe(value: Any) -> str:
    """Render any JSON value as one readable line.

    Objects become `first value (other key: value, ...)` so a condition reads
    `Type 2 diabetes (diagnosed: 2019, status: active)`; lists are joined with `; `; None reads
    `not recorded`, an empty object or list `none recorded`, booleans `yes`/`no`.
    """
    # Exact-type checks first: JSON values are exactly these types, and strings are most leaves.
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return _describe_object(value)
    if kind is list:
        return _describe_list(value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return _describe_object(value)
    if isinstance(value, list):
        return _describe_list(value)
    return str(value)


def _describe_object(value: dict) -> str:
    if not value:
        return "none recorded"
    items = iter(value.items())
    head_key, head = next(items)
    if head_key in _HEAD_KEYS and len(value) > 1:
        return f"{head} ({_fields(items)})"
    return _fields(iter(value.items()))


def _fields(items: Any) -> str:
    """`key: value, key: value` (list comprehension and an inline str test: this runs for
    every field of every nested object)."""
    labels = _INLINE_LABELS
    return ", ".join([f"{labels[k]}: {v if type(v) is str else describe(v)}" for k, v in items])


def _describe_list(value: list) -> str:
    if not value:
        return "none recorded"
    return "; ".join([v if type(v) is str else describe(v) for v in value])


# A rendered prompt longer than this is a template bug, not a prompt: ~250k tokens, above every
# model's context window.
MAX_PROMPT_CHARS = 1_000_000


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on the two operators that build huge values from
    small templates (`9**9**9`, `'x' * 10**9`): a template may not stall or exhaust the machine."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Compute `left operator right` if the result stays small, else a SecurityError."""
        numbers = _is_number(left) and _is_number(right)
        if operator == "**" and numbers and abs(right) > 64 and abs(left) not in (0, 1):
            raise SecurityError(f"the power {right!r} is too large")
        if operator == "*" and _repeats(left, right) > MAX_PROMPT_CHARS:
            raise SecurityError("the repetition makes a value too long for a prompt")
        return super().call_binop(context, operator, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _repeats(left: Any, right: Any) -> int:
    """How long `left * right` would be when it repeats a string or list (0 when it does not)."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            return len(seq) * max(times, 0)
    return 0


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    # The immutable sandbox: no attribute that leads to Python internals (`__globals__`, `os`,
    # `os.environ`), no `str.format` tricks, no changing the records that later templates see,
    # and no operator that builds a huge value.
    env = _BoundedSandbox(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=False,
    )
    env.filters["label"] = label
    env.filters["describe"] = describe
    return env


# --- Plain rendering of simple templates (see the module docstring) ------------------------

# The objects a field loop may walk: validated records always hold them as JSON objects.
_LOOP_OBJECTS = frozenset({"persona", "health_record"})


@dataclass(frozen=True)
class _FieldLoop:
    """`{% for key, value in <source>.items() %}` whose body is `line` with `{0}` for
    `key | label` and `{1}` for `value | describe`."""

    source: str
    line: str
    key: Callable[[Any], str]
    value: Callable[[Any], str]

    def render(self, context: dict[str, Any]) -> str:
        line, key, value = self.line.format, self.key, self.value
        return "".join([line(key(k), value(v)) for k, v in context[self.source].items()])


# A simple template: literal text and field loops, in order.
_Pieces = tuple[str | _FieldLoop, ...]


def _unused(_: Any) -> str:
    return ""


def _plain_pieces(ast: nodes.Template) -> _Pieces | None:
    """The template as literal text and field loops, or None if it uses anything else."""
    pieces: list[str | _FieldLoop] = []
    for node in ast.body:
        if isinstance(node, nodes.Output) and all(
            isinstance(child, nodes.TemplateData) for child in node.nodes
        ):
            pieces.append("".join(child.data for child in node.nodes))
        elif isinstance(node, nodes.For) and (loop := _field_loop(node)) is not None:
            pieces.append(loop)
        else:
            return None
    return tuple(pieces)


def _is_plain_call(node: nodes.Node) -> bool:
    """A call or filter without arguments."""
    return not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)


def _field_loop(node: nodes.For) -> _FieldLoop | None:
    """A `{% for key, value in persona.items() %}` (or `health_record`) loop whose body is only
    literal text, `{{ key | label }}` and `{{ value | describe }}`; None for anything else."""
    target, iterated = node.target, node.iter
    if node.else_ or node.test is not None or node.recursive:
        return None
    if not (
        isinstance(target, nodes.Tuple)
        and len(target.items) == 2
        and all(isinstance(name, nodes.Name) for name in target.items)
        and target.items[0].name != target.items[1].name
        and isinstance(iterated, nodes.Call)
        and _is_plain_call(iterated)
        and isinstance(iterated.node, nodes.Getattr)
        and iterated.node.attr == "items"
        and isinstance(iterated.node.node, nodes.Name)
        and iterated.node.node.name in _LOOP_OBJECTS
    ):
        return None
    key_name, value_name = (name.name for name in target.items)
    fields = {(key_name, "label"): "{0}", (value_name, "describe"): "{1}"}
    parts: list[str] = []
    for output in node.body:
        if not isinstance(output, nodes.Output):
            return None
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data.replace("{", "{{").replace("}", "}}"))
            elif (
                isinstance(child, nodes.Filter)
                and isinstance(child.node, nodes.Name)
                and _is_plain_call(child)
                and (child.node.name, child.name) in fields
            ):
                parts.append(fields[(child.node.name, child.name)])
            else:
                return None
    return _FieldLoop(
        source=iterated.node.node.name,
        line="".join(parts),
        key=label if "{0}" in parts else _unused,
        value=describe if "{1}" in parts else _unused,
    )


def _render_pieces(pieces: _Pieces, context: dict[str, Any]) -> str:
    return "".join([piece if type(piece) is str else piece.render(context) for piece in pieces])


# --- Loading and rendering -----------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    """One compiled template, with its plain form when it has one."""

    template: jinja2.Template
    name: str
    pieces: _Pieces | None


def _load(path: Path | None, default_name: str) -> _Compiled:
    """Compile a template file, or the packaged default when `path` is None."""
    if path is None:
        source = resources.files("interviews.templates").joinpath(default_name).read_text("utf-8")
        name = f"default {default_name}"
    else:
        try:
            source = Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise InputError("template file not found; check the path", path=str(path)) from None
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text; save the template as UTF-8", path=str(path)) from None
        except OSError as exc:  # a folder, no permission, ...
            raise InputError(
                f"cannot read the template file ({exc.strerror}); check the path", path=str(path)
            ) from None
        name = str(path)
    return _compile(source, name)


def _compile(source: str, name: str) -> _Compiled:
    """Compile template text; `name` (a file, or a question of a protocol) is named in errors."""
    env = _environment(jinja2.BaseLoader())
    try:
        ast = env.parse(source)
        return _Compiled(env.from_string(ast), name, _plain_pieces(ast))
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"template syntax error: {exc.message}; fix the template", path=name, line=exc.lineno
        ) from exc


@dataclass(frozen=True)
class Prompts:
    """The compiled system-message and first-question templates, and the later questions of
    an interview protocol (none without one)."""

    _system: _Compiled
    _question: _Compiled
    _later: tuple[_Compiled, ...] = ()

    @property
    def system(self) -> jinja2.Template:
        """The compiled system-message template."""
        return self._system.template

    @property
    def question(self) -> jinja2.Template:
        """The compiled first-question template."""
        return self._question.template

    @property
    def system_name(self) -> str:
        """The system template's file (or `default system_message.j2`), named in errors."""
        return self._system.name

    @property
    def question_name(self) -> str:
        """The question template's file (or `default first_question.j2`), named in errors."""
        return self._question.name

    @classmethod
    def load(
        cls,
        system_template: Path | None = None,
        question_template: Path | None = None,
        protocol: Protocol | None = None,
    ):
        """Compile the templates (packaged defaults where a path is None); a protocol's first
        question takes the place of the question template, its later ones are kept apart.

        Raises:
            InputError: a missing file or a template syntax error (names file and line), or
                both a question template and a protocol.
        """
        if protocol is None:
            return cls(
                _load(system_template, DEFAULT_SYSTEM_TEMPLATE),
                _load(question_template, DEFAULT_QUESTION_TEMPLATE),
            )
        if question_template is not None:
            raise InputError(
                "a protocol brings its own questions; give either a question template or a "
                "protocol, not both",
                path=str(question_template),
            )
        questions = [
            _compile(text, f"{protocol.path} (question {number})")
            for number, text in enumerate(protocol.turns, start=1)
        ]
        return cls(
            _load(system_template, DEFAULT_SYSTEM_TEMPLATE), questions[0], tuple(questions[1:])
        )

    def render(self, record: PersonaRecord, *, source: str) -> tuple[str, str]:
        """Render (system_message, first_question) for one record.

        Args:
            record: the validated input record.
            source: the personas file, named in errors.

        Raises:
            InputError: the template names a field this record does not have.
        """
        context = _context(record)
        return (
            _render(self._system, context, record, source),
            _render(self._question, context, record, source),
        )

    def render_later(self, record: PersonaRecord, *, source: str) -> tuple[str, ...]:
        """Render the protocol's questions after the first for one record (empty without a
        protocol).

        Raises:
            InputError: a question names a field this record does not have.
        """
        if not self._later:
            return ()
        context = _context(record)
        return tuple(_render(question, context, record, source) for question in self._later)


def _context(record: PersonaRecord) -> dict[str, Any]:
    """What every template sees of one record."""
    return {
        "persona": record.persona,
        "health_record": record.health_record,
        "persona_id": record.persona_id,
    }


def _render(
    compiled: _Compiled, context: dict[str, Any], record: PersonaRecord, source: str
) -> str:
    """Render one template for one record, stripped; errors name the file and line."""
    if compiled.pieces is not None:  # only literal text, label and describe: nothing can fail
        text = _render_pieces(compiled.pieces, context).strip()
    else:
        text = _render_jinja(compiled, context, record, source)
    if not text:
        raise InputError(
            f"template {compiled.name} rendered an empty prompt for this record; fix the template",
            path=source,
            line=record.line,
        )
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(
            f"template {compiled.name} rendered a prompt of {len(text):,} characters for this "
            f"record (the limit is {MAX_PROMPT_CHARS:,}); shorten the template or the record",
            path=source,
            line=record.line,
        )
    return text


def _render_jinja(
    compiled: _Compiled, context: dict[str, Any], record: PersonaRecord, source: str
) -> str:
    """Render with Jinja; whatever the template does wrong becomes one InputError."""
    try:
        return compiled.template.render(context).strip()
    except SecurityError as exc:
        # the template's fault whatever the record: name the template and its line
        reason = str(exc.message).rstrip(".")
        raise InputError(
            f"template reaches outside the record ({reason}); a template may only use "
            "persona, health_record and persona_id: remove that expression",
            path=compiled.name,
            line=_template_line(exc),
        ) from None
    except jinja2.UndefinedError as exc:
        raise InputError(
            f"template {compiled.name} uses a field this record does not have ({exc.message}); "
            "add it to the record or change the template",
            path=source,
            line=record.line,
        ) from exc
    except Exception as exc:  # a template is code: any of its errors is bad input
        where = _template_line(exc)
        at = f" line {where}" if where is not None else ""
        raise InputError(
            f"template {compiled.name}{at} failed on this record "
            f"({type(exc).__name__}: {_one_line(exc)}); fix the template",
            path=source,
            line=record.line,
        ) from exc


def _template_line(exc: BaseException) -> int | None:
    """The template line an error was raised at (Jinja rewrites tracebacks so that frames of
    a template carry its own line numbers), or None."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line, cut short (it may quote a whole value)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"
