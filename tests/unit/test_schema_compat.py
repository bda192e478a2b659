"""Schema evolution contract: every version of a subject in schemas/ is BACKWARD_TRANSITIVE.

A reader with the newest schema must read what every older version wrote. Proven two ways
for every (older, newer) pair: a structural check of Avro's resolution rules (new fields
have defaults, removed fields had defaults, enum symbols are not dropped without a default,
types only promote), and by writing generated sample records with the old schema and
reading them with the new one through fastavro. The checker is itself tested on
deliberately incompatible changes.
"""

from __future__ import annotations

import io
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from fleetstream.serde.avro import schemas_dir

pytestmark = pytest.mark.unit

Schema = Any  # JSON of an Avro schema: str | list | dict
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
# Writer type -> reader types it resolves to (Avro specification, "Schema Resolution").
PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def subjects(directory: Path) -> dict[str, list[Path]]:
    """subject -> its schema files, oldest first (name.vN.avsc)."""
    found: dict[str, list[tuple[int, Path]]] = defaultdict(list)
    for path in directory.glob("*.v*.avsc"):
        subject, version = path.name.removesuffix(".avsc").rsplit(".v", 1)
        found[subject].append((int(version), path))
    return {s: [p for _, p in sorted(versions)] for s, versions in found.items()}


class Names:
    """Named types (records, enums, fixed) by full name, as they are defined while walking."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}

    def full(self, name: str, namespace: str | None) -> str:
        return name if "." in name or not namespace else f"{namespace}.{name}"

    def define(self, schema: dict[str, Any], namespace: str | None) -> str | None:
        full = self.full(schema["name"], schema.get("namespace", namespace))
        self.types[full] = schema
        return full.rpartition(".")[0] or None

    def resolve(self, schema: Schema, namespace: str | None) -> tuple[Schema, str | None]:
        """Dereference a named-type reference; primitives and inline types are returned as is."""
        if isinstance(schema, str) and schema not in PRIMITIVES:
            full = self.full(schema, namespace)
            return self.types[full], full.rpartition(".")[0] or None
        return schema, namespace


def kind(schema: Schema) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema["type"])
    return str(schema)


def short_name(schema: dict[str, Any]) -> str:
    return str(schema["name"]).rpartition(".")[2]


class Checker:
    """Structural reader/writer compatibility per Avro's schema resolution rules."""

    def __init__(self) -> None:
        self.writer_names = Names()
        self.reader_names = Names()

    def problems(self, writer: Schema, reader: Schema) -> list[str]:
        """Why a reader with `reader` cannot read all data written with `writer` (empty: it can)."""
        return self._check(writer, None, reader, None, "$")

    def _check(
        self, writer: Schema, w_ns: str | None, reader: Schema, r_ns: str | None, at: str
    ) -> list[str]:
        writer, w_ns = self.writer_names.resolve(writer, w_ns)
        reader, r_ns = self.reader_names.resolve(reader, r_ns)
        w_kind, r_kind = kind(writer), kind(reader)
        if w_kind == "union":
            # Every branch the writer may have used must be readable.
            return [
                p
                for n, branch in enumerate(writer)
                for p in self._check(branch, w_ns, reader, r_ns, f"{at}<{n}>")
            ]
        if r_kind == "union":
            for branch in reader:
                if self._probe(writer, w_ns, branch, r_ns):
                    return self._check(writer, w_ns, branch, r_ns, at)
            return [f"{at}: writer type {w_kind} matches no branch of the reader's union"]
        if w_kind in PRIMITIVES or r_kind in PRIMITIVES:
            if w_kind == r_kind or r_kind in PROMOTIONS.get(w_kind, set()):
                return []
            return [f"{at}: {w_kind} cannot be read as {r_kind}"]
        if w_kind != r_kind:
            return [f"{at}: {w_kind} cannot be read as {r_kind}"]
        if w_kind == "array":
            return self._check(writer["items"], w_ns, reader["items"], r_ns, f"{at}[]")
        if w_kind == "map":
            return self._check(writer["values"], w_ns, reader["values"], r_ns, f"{at}{{}}")
        names = {short_name(reader), *reader.get("aliases", ())}
        if short_name(writer) not in names:
            return [f"{at}: {w_kind} {writer['name']} cannot be read as {reader['name']}"]
        w_ns = self.writer_names.define(writer, w_ns)
        r_ns = self.reader_names.define(reader, r_ns)
        if w_kind == "enum":
            dropped = set(writer["symbols"]) - set(reader["symbols"])
            if dropped and "default" not in reader:
                return [f"{at}: enum symbols {sorted(dropped)} removed without a default"]
            return []
        if w_kind == "fixed":
            same = writer["size"] == reader["size"]
            return [] if same else [f"{at}: fixed size changed"]
        return self._record(writer, w_ns, reader, r_ns, at)

    def _record(
        self,
        writer: dict[str, Any],
        w_ns: str | None,
        reader: dict[str, Any],
        r_ns: str | None,
        at: str,
    ) -> list[str]:
        problems: list[str] = []
        written = {f["name"]: f for f in writer["fields"]}
        matched: set[str] = set()
        for field in reader["fields"]:
            name = next(
                (n for n in (field["name"], *field.get("aliases", ())) if n in written), None
            )
            if name is None:
                if "default" not in field:
                    problems.append(f"{at}.{field['name']}: new field without a default")
                continue
            matched.add(name)
            problems += self._check(
                written[name]["type"], w_ns, field["type"], r_ns, f"{at}.{field['name']}"
            )
        for name, field in written.items():
            # Readers still on the older version must keep working while producers upgrade.
            if name not in matched and "default" not in field:
                problems.append(f"{at}.{name}: removed, but it was required (no default)")
        return problems

    def _probe(self, writer: Schema, w_ns: str | None, reader: Schema, r_ns: str | None) -> bool:
        """Whether a reader union branch is the one the writer type resolves to (no problems)."""
        probe = Checker()
        probe.writer_names.types = dict(self.writer_names.types)
        probe.reader_names.types = dict(self.reader_names.types)
        return not probe._check(writer, w_ns, reader, r_ns, "")


def samples(schema: Schema) -> list[Any]:
    """Records of the schema, walking its types: sample n takes branch n of every union (the
    last one when it has fewer) and symbol n of every enum, until every branch was taken."""
    widest = _widest_union(schema, Names(), None)
    return [_sample(schema, Names(), None, n) for n in range(max(widest, 1))]


def _widest_union(schema: Schema, names: Names, namespace: str | None) -> int:
    if isinstance(schema, str):
        return 1
    if isinstance(schema, list):
        return max([len(schema), *(_widest_union(s, names, namespace) for s in schema)])
    if schema["type"] == "record":
        inner = names.define(schema, namespace)
        return max([1, *(_widest_union(f["type"], names, inner) for f in schema["fields"])])
    if schema["type"] in ("enum", "fixed"):
        names.define(schema, namespace)
        return len(schema.get("symbols", [0]))
    if schema["type"] == "array":
        return _widest_union(schema["items"], names, namespace)
    if schema["type"] == "map":
        return _widest_union(schema["values"], names, namespace)
    return 1


def _sample(schema: Schema, names: Names, namespace: str | None, n: int) -> Any:
    schema, namespace = names.resolve(schema, namespace)
    if isinstance(schema, list):
        return _sample(schema[min(n, len(schema) - 1)], names, namespace, n)
    kind_ = kind(schema)
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical in ("timestamp-millis", "timestamp-micros"):
        return 1_795_000_000_000 + n
    simple = {
        "null": None,
        "boolean": n % 2 == 0,
        "int": 7 + n,
        "long": 1_000_000_007 + n,
        "float": 1.5,
        "double": 2.5,
        "bytes": b"\x00\x01",
        "string": f"s{n}",
    }
    if kind_ in simple:
        return simple[kind_]
    if kind_ == "array":
        return [_sample(schema["items"], names, namespace, n)]
    if kind_ == "map":
        return {"k": _sample(schema["values"], names, namespace, n)}
    inner = names.define(schema, namespace)
    if kind_ == "enum":
        symbols = schema["symbols"]
        return symbols[n % len(symbols)]
    if kind_ == "fixed":
        return b"\x00" * schema["size"]
    return {f["name"]: _sample(f["type"], names, inner, n) for f in schema["fields"]}


def read_with(writer: Schema, reader: Schema, record: Any) -> Any:
    """Write record with the writer schema, read it back with the reader schema."""
    buffer = io.BytesIO()
    parsed_writer = parse_schema(writer)
    schemaless_writer(buffer, parsed_writer, record)
    buffer.seek(0)
    return schemaless_reader(buffer, parsed_writer, parse_schema(reader))


def _pairs() -> list[tuple[str, Path, Path]]:
    return [
        (subject, old, new)
        for subject, files in sorted(subjects(schemas_dir()).items())
        for old, new in itertools.combinations(files, 2)
    ]


def _load(path: Path) -> Schema:
    return json.loads(path.read_text())


def test_every_subject_has_consecutive_versions() -> None:
    found = subjects(schemas_dir())
    assert {"work_item", "resource_event", "change_event", "resource_state"} <= set(found)
    for subject, files in found.items():
        versions = [int(p.name.removesuffix(".avsc").rsplit(".v", 1)[1]) for p in files]
        assert versions == list(range(1, len(files) + 1)), subject
        for path in files:
            parse_schema(_load(path))  # every file is a valid schema


@pytest.mark.parametrize(
    ("subject", "old", "new"), _pairs(), ids=[f"{s}:{o.stem}->{n.stem}" for s, o, n in _pairs()]
)
def test_newer_versions_read_everything_older_ones_wrote(
    subject: str, old: Path, new: Path
) -> None:
    writer, reader = _load(old), _load(new)
    assert Checker().problems(writer, reader) == [], subject
    for record in samples(writer):
        read_with(writer, reader, record)


def test_every_version_reads_its_own_samples() -> None:
    for files in subjects(schemas_dir()).values():
        for path in files:
            schema = _load(path)
            for record in samples(schema):
                assert read_with(schema, schema, record) is not None


# --- the checker itself --------------------------------------------------------------------

BASE: dict[str, Any] = {
    "type": "record",
    "name": "Thing",
    "namespace": "dev.test",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {
            "name": "parts",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Part",
                    "fields": [{"name": "n", "type": "int"}],
                },
            },
            "default": [],
        },
        {"name": "again", "type": ["null", "Part"], "default": None},
    ],
}


def evolved(**changes: Any) -> dict[str, Any]:
    """BASE with fields replaced (name -> field or None to remove) or appended."""
    fields = {f["name"]: f for f in json.loads(json.dumps(BASE))["fields"]}
    for name, field in changes.items():
        if field is None:
            fields.pop(name)
        else:
            fields[name] = {"name": name, **field}
    return {**BASE, "fields": list(fields.values())}


def can_read(writer: Schema, reader: Schema) -> bool:
    try:
        for record in samples(writer):
            read_with(writer, reader, record)
    except Exception:
        return False
    return True


COMPATIBLE = {
    "a new field with a default": evolved(extra={"type": "long", "default": 0}),
    "a new optional field": evolved(extra={"type": ["null", "string"], "default": None}),
    "int promoted to long": evolved(count={"type": "long"}),
    "a new enum symbol": evolved(
        kind={"type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}}
    ),
    "a field with a default removed": evolved(note=None),
    "a field widened to a union": evolved(id={"type": ["null", "string"], "default": None}),
    "a field in a nested record with a default": evolved(
        parts={
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Part",
                    "fields": [
                        {"name": "n", "type": "int"},
                        {"name": "m", "type": "int", "default": 0},
                    ],
                },
            },
            "default": [],
        }
    ),
}

INCOMPATIBLE = {
    "a new field without a default": (
        evolved(extra={"type": "string"}),
        "extra: new field without a default",
    ),
    "a required field removed": (evolved(count=None), "count: removed"),
    "a type narrowed": (evolved(count={"type": "string"}), "int cannot be read as string"),
    "an enum symbol removed": (
        evolved(kind={"type": {"type": "enum", "name": "Kind", "symbols": ["A"]}}),
        "enum symbols ['B'] removed",
    ),
    "a record renamed": (
        {**BASE, "name": "Other"},
        "record Thing cannot be read as Other",
    ),
    "a union branch dropped": (
        evolved(note={"type": "null", "default": None}),
        "string cannot be read as null",
    ),
    "a nested field without a default": (
        evolved(
            parts={
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Part",
                        "fields": [{"name": "n", "type": "int"}, {"name": "m", "type": "int"}],
                    },
                },
                "default": [],
            }
        ),
        "parts[].m: new field without a default",
    ),
}


@pytest.mark.parametrize("reader", list(COMPATIBLE.values()), ids=list(COMPATIBLE))
def test_the_checker_accepts_compatible_changes(reader: dict[str, Any]) -> None:
    assert Checker().problems(BASE, reader) == []
    assert can_read(BASE, reader)


@pytest.mark.parametrize(("reader", "why"), list(INCOMPATIBLE.values()), ids=list(INCOMPATIBLE))
def test_the_checker_detects_incompatible_changes(reader: dict[str, Any], why: str) -> None:
    problems = Checker().problems(BASE, reader)
    assert any(why in p for p in problems), problems


def test_fastavro_agrees_where_reading_fails() -> None:
    # Changes that break the actual read (not just the stricter removal rule) fail in fastavro.
    for name in ("a new field without a default", "a type narrowed", "a union branch dropped"):
        reader, _why = INCOMPATIBLE[name]
        assert not can_read(BASE, reader), name


def test_samples_cover_every_union_branch_and_enum_symbol() -> None:
    records = samples(BASE)
    assert {r["note"] is None for r in records} == {True, False}
    assert {r["kind"] for r in records} == {"A", "B"}
    assert {r["again"] is None for r in records} == {True, False}


def test_a_bad_new_version_of_a_real_subject_is_caught(tmp_path: Path) -> None:
    current = _load(schemas_dir() / "change_event.v1.avsc")
    bad = {**current, "fields": [*current["fields"], {"name": "actor", "type": "string"}]}
    for path in schemas_dir().glob("*.avsc"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "change_event.v2.avsc").write_text(json.dumps(bad))
    assert len(subjects(tmp_path)["change_event"]) == 2
    old, new = subjects(tmp_path)["change_event"]
    assert Checker().problems(_load(old), _load(new)) == ["$.actor: new field without a default"]
    assert not can_read(_load(old), _load(new))
