"""Templates run in Jinja2's sandbox: no shell, no environment, no changing the records.

The exploits run through the real `interviews prepare` process, as a user would; each one
must be refused in one line naming the template, run nothing and write nothing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import jinja2
import orjson
import pytest

from interviews.errors import InputError
from interviews.personas import PersonaRecord, iter_personas
from interviews.prompts import Prompts, describe, label
from tests.conftest import SAMPLE
from tests.test_prompts import random_record

CANARY = "sk-ant-canary-0123456789abcdef"

# Roads from a template to Python's `os` module outside a sandbox.
POPEN_ROADS = [
    "cycler.__init__.__globals__.os.popen",
    "lipsum.__globals__.os.popen",
    "joiner.__init__.__globals__.os.popen",
    "namespace.__init__.__globals__.os.popen",
    "self._TemplateReference__context.cycler.__init__.__globals__.os.popen",
]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
        timeout=120,
    )


def prepare(data: Path, *options: str, env: dict[str, str] | None = None):
    return cli(
        "prepare", "--personas", str(SAMPLE), "--count", "5", "--data-dir", str(data), *options,
        env=env,
    )  # fmt: skip


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.mark.parametrize("road", POPEN_ROADS)
def test_a_system_template_cannot_run_a_shell_command(tmp_path: Path, road: str) -> None:
    marker = tmp_path / "pwned"
    template = tmp_path / "evil.j2"
    exploit = f"{{{{ {road}('touch {marker}').read() }}}}"
    template.write_text(f"You are {{{{ persona.name }}}}.\n{exploit}")
    data = tmp_path / "data"
    result = prepare(data, "--system-template", str(template))
    assert result.returncode == 1
    assert not marker.exists(), "the template ran a shell command"
    assert result.stderr.startswith(f"error: {template}:2: template reaches outside the record (")
    assert "remove that expression" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not data.exists()  # refused before anything was written


@pytest.mark.parametrize(
    "expression",
    [
        "cycler.__init__.__globals__.os.environ['ANTHROPIC_API_KEY']",
        "lipsum.__globals__.os.environ.ANTHROPIC_API_KEY",
        "'{0.__init__.__globals__[os].environ[ANTHROPIC_API_KEY]}'.format(cycler)",
        "cycler|attr('__init__')|attr('__globals__')",
    ],
)
def test_a_template_cannot_read_the_environment(tmp_path: Path, expression: str) -> None:
    template = tmp_path / "leak.j2"
    template.write_text(f"Key: {{{{ {expression} }}}}")
    data = tmp_path / "data"
    result = prepare(data, "--system-template", str(template), env={"ANTHROPIC_API_KEY": CANARY})
    assert result.returncode == 1
    # (the `attr` filter hands back an undefined value instead of raising: refused all the same)
    assert "template reaches outside the record" in result.stderr or (
        f"template {template} uses a field" in result.stderr and "__globals__" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert CANARY not in result.stdout + result.stderr
    assert not data.exists()
    for path in files_under(tmp_path):
        assert CANARY.encode() not in path.read_bytes(), path


def test_a_protocol_question_cannot_run_a_command_or_read_the_environment(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(
        "questions:\n"
        "  - How are you, {{ persona.name }}?\n"
        f"  - \"{{{{ lipsum.__globals__.os.popen('touch {marker}').read() }}}}\"\n"
        "  - \"{{ cycler.__init__.__globals__.os.environ['ANTHROPIC_API_KEY'] }}\"\n"
    )
    data = tmp_path / "data"
    result = prepare(data, "--protocol", str(protocol), env={"ANTHROPIC_API_KEY": CANARY})
    assert result.returncode == 1
    assert not marker.exists()
    assert result.stderr.startswith(
        f"error: {protocol} (question 2):1: template reaches outside the record"
    )
    assert CANARY not in result.stdout + result.stderr
    assert files_under(tmp_path) == [protocol]

    # the environment question alone (the first question of its own protocol) is refused too
    protocol.write_text(
        "questions:\n  - \"{{ cycler.__init__.__globals__.os.environ['ANTHROPIC_API_KEY'] }}\"\n"
    )
    result = prepare(data, "--protocol", str(protocol), env={"ANTHROPIC_API_KEY": CANARY})
    assert result.returncode == 1 and "(question 1):1: template reaches outside" in result.stderr
    assert CANARY not in result.stdout + result.stderr
    assert files_under(tmp_path) == [protocol]


def test_an_exploit_on_a_later_record_leaves_no_file(tmp_path: Path) -> None:
    """Refused at the fourth record: the files begun for the first three are removed."""
    marker = tmp_path / "pwned"
    template = tmp_path / "late.j2"
    template.write_text(
        "Hello {{ persona.name }}\n"
        "{% if persona_id == 3 %}\n"
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}\n"
        "{% endif %}"
    )
    data = tmp_path / "data"
    result = prepare(data, "--system-template", str(template))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {template}:3: template reaches outside the record")
    assert not marker.exists()
    assert files_under(data) == []


def test_a_template_cannot_change_the_records(tmp_path: Path) -> None:
    template = tmp_path / "mutate.j2"
    template.write_text("{{ persona.update({'name': 'someone else'}) }}{{ persona.name }}")
    record = next(iter_personas(SAMPLE))
    prompts = Prompts.load(system_template=template)
    with pytest.raises(InputError, match=rf"^{template}:1: template reaches outside the record"):
        prompts.render(record, source=str(SAMPLE))
    assert record.persona["name"] != "someone else"


def test_a_failing_expression_is_one_line_naming_template_record_and_fix(tmp_path: Path) -> None:
    template = tmp_path / "typo.j2"
    template.write_text("Hello\n{{ persona.name + 1 }}")
    result = prepare(tmp_path / "data", "--system-template", str(template))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {SAMPLE}:1: template {template} line 2 failed on this record (TypeError: can "
        'only concatenate str (not "int") to str); fix the template'
    )


ORDINARY_TEMPLATES = [
    "You are {{ persona.name }}, {{ persona.age }}. {{ persona.background }}",
    (
        "{% for key, value in health_record.items() %}{{ key|label }}: {{ value|describe }}\n"
        "{% endfor %}{{ persona_id }}"
    ),
    (
        "{% set n = namespace(count=0) %}{% for c in health_record.conditions %}"
        "{% set n.count = n.count + 1 %}{{ loop.index }}. {{ c.name|upper }} ({{ c|tojson }})\n"
        "{% endfor %}{{ n.count }} conditions; {{ persona.concerns|join(', ') }}"
        "{{ '%s is %d' % (persona.name, persona.age) }} {{ '{} {}'.format(persona.name, 1) }}"
        "{% for k in persona|dictsort %}{{ k[0] }}{{ cycler('a', 'b').next() }}{% endfor %}"
        "{{ persona.get('nickname', 'none') }} {{ persona.keys()|list|length }}"
    ),
]


@pytest.mark.parametrize("source", ORDINARY_TEMPLATES)
def test_ordinary_templates_render_exactly_as_without_the_sandbox(
    tmp_path: Path, source: str
) -> None:
    template = tmp_path / "t.j2"
    template.write_text(source)
    prompts = Prompts.load(system_template=template)
    plain = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    plain.filters.update(label=label, describe=describe)
    reference = plain.from_string(source)
    records = list(iter_personas(SAMPLE))
    for record in records:
        context = {
            "persona": record.persona,
            "health_record": record.health_record,
            "persona_id": record.persona_id,
        }
        system, _ = prompts.render(record, source="s")
        assert system == reference.render(context).strip()


def test_default_templates_write_the_expected_sample_requests(tmp_path: Path) -> None:
    """Byte for byte: the canonical file `prepare` writes carries the committed prompts."""
    data = tmp_path / "data"
    result = cli("prepare", "--personas", str(SAMPLE), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    [canonical] = [
        path
        for path in (data / "batch_requests").glob("batch_request_anthropic_*.jsonl")
        if "_ready" not in path.name
    ]
    written = [orjson.loads(line) for line in canonical.read_bytes().splitlines()]
    expected = Path(__file__).parent / "expected" / "sample_prompts.jsonl"
    wanted = [orjson.loads(line) for line in expected.read_bytes().splitlines()]
    assert [
        {k: line[k] for k in ("custom_id", "system_message", "first_question")} for line in written
    ] == wanted


def test_random_records_render_the_same_in_and_out_of_the_sandbox() -> None:
    source = (
        "{% for k, v in persona.items() %}{{ k }}={{ v }};{% endfor %}"
        "{% for k, v in health_record.items() %}{{ k|label }}: {{ v|describe }}\n{% endfor %}"
    )
    plain = jinja2.Environment(undefined=jinja2.StrictUndefined)
    plain.filters.update(label=label, describe=describe)
    sandboxed = Prompts.load().system.environment.from_string(source)
    rng = random.Random(7)
    for line in range(1, 201):
        record: PersonaRecord = random_record(rng, line)
        context = {"persona": record.persona, "health_record": record.health_record}
        assert sandboxed.render(context) == plain.from_string(source).render(context)


@pytest.mark.parametrize(
    "expression",
    ["9 ** (9 ** 9)", "2 ** 100000", "'x' * 10**8", "[persona] * 2000000", "10**7 * 'ab'"],
)
def test_a_template_cannot_build_a_huge_value(tmp_path: Path, expression: str) -> None:
    """Refused at once, naming the template line: no stalled machine, no gigabyte prompt."""
    template = tmp_path / "huge.j2"
    template.write_text(f"You are {{{{ persona.name }}}}.\n{{{{ {expression} }}}}")
    record = next(iter_personas(SAMPLE))
    prompts = Prompts.load(system_template=template)
    with pytest.raises(InputError, match=rf"^{template}:2: template reaches outside the record"):
        prompts.render(record, source=str(SAMPLE))


def test_small_powers_and_repeats_still_work_and_long_prompts_are_refused(tmp_path: Path) -> None:
    record = next(iter_personas(SAMPLE))
    ok = tmp_path / "ok.j2"
    ok.write_text("{{ 2 ** 10 }} {{ '-' * 3 }} {{ 1 ** 100000 }} {{ 1.5 * 2 }}")
    assert Prompts.load(system_template=ok).render(record, source="p.jsonl")[0] == "1024 --- 1 3.0"
    long = tmp_path / "long.j2"
    long.write_text("{{ 'x' * 600000 }}{{ 'y' * 600000 }}")
    with pytest.raises(InputError, match=r"rendered a prompt of 1,200,000 characters"):
        Prompts.load(system_template=long).render(record, source="p.jsonl")
