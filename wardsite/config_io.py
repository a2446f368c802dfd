"""The configuration as one YAML document (docs/configuration.md, "Moving the configuration").

wardsite knows none of the apps: each declares its sections in `<app>/config_sections.py`, imported here the first
time the sections are asked for (as the admin finds `admin.py`). A section is a model, its natural key and its
fields; references between objects are written as natural keys (names), never as database ids, and the sections
are put in the order that lets an import resolve them: each after the sections of the objects it refers to.
This module declares sections, resolves references and exports; `wardsite/config_import.py` imports.
"""
from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Field, Model, Prefetch, QuerySet
from django.utils.module_loading import autodiscover_modules

from wardsite.secrets import SecretField, require_readable
from wardsite.text import quote

FORMAT = "wardflux-config/1"
LEFT_OUT = "secrets_left_out"  # lists an object's secrets that an export without --with-secrets left out


class ConfigError(Exception):
    """A document that cannot be imported, or a section that does not exist; each problem says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Extra:
    """A value of an object that is not a field of its model (a schedule, a list kept in order by another model):
    read on export, written after the object is saved. `write` raises ValueError or ValidationError."""

    name: str
    read: Callable[[Any], Any]
    write: Callable[[Any, Any], None]
    refers_to: tuple[type[Model], ...] = ()  # models it names, whose sections must come first


@dataclass(frozen=True, eq=False)
class Section:
    """One kind of object in the document, found by its natural key.

    Its fields are the model's editable ones, so a field added later is exported without an edit here; `exclude`
    takes out state an operator could edit, `include` adds configuration the model marks not editable, and `only`
    lists the fields instead where little of a model is configuration. A child section (`parent`: its foreign key
    to the enclosing object) is nested in each entry under `name`; its key is unique within the parent, and the
    list in an entry replaces the parent's children.
    """

    name: str
    model: type[Model]
    key: tuple[str, ...] = ("name",)
    parent: str = ""
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    match_first: tuple[str, ...] = ()  # unique fields that find the object before the key does, when an entry sets one
    children: tuple[Section, ...] = ()
    extras: tuple[Extra, ...] = ()
    objects: Callable[[], QuerySet] | None = None  # what is exported; default: every object

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """The fields written for each object, the key's first."""
        meta = self.model._meta
        names = list(self.only) or [f.name for f in (*meta.concrete_fields, *meta.many_to_many)
                                    if _configurable(f, self.include)]
        names = [n for n in dict.fromkeys([*self.key, *names]) if n != self.parent and n not in self.exclude]
        return tuple(meta.get_field(name) for name in names)

    @property
    def identity(self) -> tuple[str, ...]:
        """The fields naming one object among all: a child's include its parent."""
        return (self.parent, *self.key) if self.parent else self.key

    @property
    def accessor(self) -> str:
        """A child's: the parent's attribute holding its objects (e.g. `aliases`)."""
        return self.model._meta.get_field(self.parent).remote_field.get_accessor_name()

    def family(self) -> Iterator[Section]:
        """This section and its children, theirs included."""
        yield self
        for child in self.children:
            yield from child.family()

    def queryset(self) -> QuerySet:
        """The objects to export, with what their references need fetched along."""
        objects = self.objects() if self.objects else self.model._default_manager.all()
        single = [f.name for f in self.fields if f.is_relation and not f.many_to_many]
        many = [f.name for f in self.fields if f.many_to_many]
        children = [Prefetch(child.accessor, queryset=child.queryset()) for child in self.children]
        return objects.select_related(*single).prefetch_related(*many, *children)


def _configurable(field: Field, include: tuple[str, ...]) -> bool:
    """Editable (or included) fields; not the id, and not a many-to-many kept through a model of its own, which
    only an Extra can write in the right order."""
    if field.primary_key or field.auto_created:
        return False
    if field.many_to_many and not field.remote_field.through._meta.auto_created:
        return False
    return field.editable or field.name in include


# --- the registry --------------------------------------------------------------------------------------------

_registered: dict[str, Section] = {}
_discovered = False


def register(*sections: Section) -> None:
    """Declare sections (an app's config_sections module does, when imported)."""
    for section in sections:
        if section.name in _registered:
            raise ImproperlyConfigured(f"config section {section.name!r} is declared twice")
        for member in section.family():
            missing = [n for n in (*member.identity, *member.only, *member.match_first) if n not in _names(member)]
            if missing:
                raise ImproperlyConfigured(f"config section {member.name!r}: {member.model._meta.label} has no "
                                           f"field {quote(missing[0])}")
        _registered[section.name] = section


def _names(section: Section) -> set[str]:
    return {f.name for f in section.model._meta.get_fields()}


def sections() -> list[Section]:
    """Every section, each after the sections of the objects it refers to (so an import can find them)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("config_sections")
        _discovered = True
    return _dependency_order(list(_registered.values()))


def section_names() -> list[str]:
    return [section.name for section in sections()]


def _references(section: Section) -> Iterator[tuple[str, type[Model]]]:
    """(where, model) of every model the section's objects refer to."""
    for member in section.family():
        for field in member.fields:
            if field.is_relation:
                yield f"{member.model._meta.label}.{field.name}", field.related_model
        for extra in member.extras:
            for model in extra.refers_to:
                yield f"{member.name}.{extra.name}", model


def _dependency_order(registered: list[Section]) -> list[Section]:
    """Depth first: a section's references first, else the order of registration (the apps' order)."""
    owner = {member.model: top for top in registered for member in top.family()}
    ordered: list[Section] = []

    def visit(section: Section, path: tuple[str, ...]) -> None:
        if section in ordered:
            return
        if section.name in path:
            raise ImproperlyConfigured(f"config sections refer to each other: {' -> '.join((*path, section.name))}")
        for where, model in _references(section):
            if model not in owner:
                raise ImproperlyConfigured(f"{where} refers to {model._meta.label}, which no config section declares "
                                           "(declare one, or exclude the field)")
            if owner[model] is not section:
                visit(owner[model], (*path, section.name))
        ordered.append(section)

    for section in registered:
        visit(section, ())
    return ordered


# --- references by natural key -------------------------------------------------------------------------------

class Refs:
    """Natural keys of objects, and the objects they name (remembered for the run)."""

    def __init__(self, ordered: Iterable[Section]) -> None:
        self.sections = {member.model: member for top in ordered for member in top.family()}
        self._found: dict[tuple[type[Model], str], Model] = {}

    def key_of(self, obj: Model) -> Any:
        """The natural key: the value of a one-field key, else a list (a reference in a key is a key itself)."""
        section = self.sections[obj._meta.concrete_model]
        values = [self.value_of(obj, obj._meta.get_field(name)) for name in section.identity]
        return values[0] if len(values) == 1 else values

    def value_of(self, obj: Model, field: Field) -> Any:
        """A field's value as the document writes it."""
        if field.many_to_many:
            return sorted((self.key_of(target) for target in getattr(obj, field.name).all()), key=order)
        if field.is_relation:
            target = getattr(obj, field.name)
            return None if target is None else self.key_of(target)
        return plain(field.value_from_object(obj))

    def python(self, field: Field, value: Any) -> Any:
        """A document's value as the field holds it: the object a reference names, a parsed date...

        LookupError when a reference names nothing; ValidationError for a value the field cannot hold."""
        if value is None:
            return None
        if field.is_relation:
            return self.find(field.related_model, value)
        value = field.to_python(value)
        field.run_validators(value)  # before a lookup too: the database may refuse to compare a bad value
        return value

    def find(self, model: type[Model], value: Any) -> Model:
        """The object of `model` whose natural key is `value`; LookupError saying what is missing."""
        memo = (model, json.dumps(value, sort_keys=True, default=str))
        if memo in self._found:
            return self._found[memo]
        names = self.sections[model].identity
        parts = [value] if len(names) == 1 else value
        if not isinstance(parts, list) or len(parts) != len(names):
            raise LookupError(f"expected [{', '.join(names)}] naming a {model._meta.verbose_name}, not {quote(value)}")
        lookup = {name: self.python(model._meta.get_field(name), part) for name, part in zip(names, parts)}
        found = model._default_manager.filter(**lookup).first()
        if found is None:
            raise LookupError(f"no {model._meta.verbose_name} {quote(value)}")
        self._found[memo] = found
        return found

    def remember(self, obj: Model) -> None:
        """An object just saved: references to it find this instance."""
        self._found[(obj._meta.concrete_model, json.dumps(self.key_of(obj), sort_keys=True, default=str))] = obj


def plain(value: Any) -> Any:
    """A value as YAML writes it: dates (in UTC), decimals and ids as text; mappings with their keys sorted."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def order(value: Any) -> tuple:
    """A sort key for natural keys that mixes None, numbers, text and lists without comparing across kinds."""
    if value is None:
        return (0,)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(order(v) for v in value))
    return (2, str(value))


# --- export ----------------------------------------------------------------------------------------------------

def export_document(names: Sequence[str] = (), *, with_secrets: bool = False) -> str:
    """The configuration as YAML: every section or those named; secrets (in clear text) only `with_secrets`."""
    ordered = sections()
    known = [section.name for section in ordered]
    unknown = [f"unknown section {quote(name)} (known: {', '.join(known)})" for name in names if name not in known]
    if unknown:
        raise ConfigError(unknown)
    refs = Refs(ordered)
    document: dict[str, Any] = {"format": FORMAT}
    for section in ordered:
        if not names or section.name in names:
            document[section.name] = _entries(section, section.queryset(), refs, with_secrets)
    return dump(document)


def _entries(section: Section, objects: Iterable[Model], refs: Refs, with_secrets: bool) -> list[dict[str, Any]]:
    entries = [_entry(section, obj, refs, with_secrets) for obj in objects]
    return sorted(entries, key=lambda entry: order([entry[name] for name in section.key]))


def _entry(section: Section, obj: Model, refs: Refs, with_secrets: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    left_out = []
    for field in section.fields:
        if isinstance(field, SecretField) and not with_secrets:
            if field.value_from_object(obj):
                left_out.append(field.name)
        else:
            if isinstance(field, SecretField):
                require_readable(obj, field.name)  # SecretDecryptionError naming it: no placeholder exported
            entry[field.name] = refs.value_of(obj, field)
    for extra in section.extras:
        entry[extra.name] = plain(extra.read(obj))
    for child in section.children:
        entry[child.name] = _entries(child, getattr(obj, child.accessor).all(), refs, with_secrets)
    if left_out:
        entry[LEFT_OUT] = left_out
    return entry


class _Dumper(yaml.SafeDumper):
    """Multi-line text as a block; equal values written out each time, never as anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def dump(document: dict[str, Any]) -> str:
    """The document as YAML, fields in the order given (the same configuration gives the same bytes)."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
