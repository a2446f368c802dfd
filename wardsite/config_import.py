"""Importing a configuration document (wardsite/config_io.py): each object is created or updated by its natural key
and validated with full_clean(), all in one transaction; if anything is wrong, every problem is reported with its
section, object and field, and nothing changes."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Model

from wardsite.config_io import FORMAT, LEFT_OUT, ConfigError, Refs, Section, sections
from wardsite.secrets import SecretField
from wardsite.text import quote

SECRET_TO_BE_SET = "left-out-secret"  # stands in for a left-out secret while the object is validated


@dataclass
class ImportReport:
    """What an import did (or, dry, would do), per section in the document's order."""

    sections: list[str] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    need_secrets: list[str] = field(default_factory=list)  # "snmp_credentials 'lab': community"


class _Refused(Exception):
    """An object that cannot be saved; its problems, each naming where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_document(text: str) -> dict[str, Any]:
    """The document's sections by name; ConfigError for text that is not YAML, another format, or an unknown
    section."""
    try:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml's: 10x faster
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"not valid YAML: {where}{exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"]) from None
    if not isinstance(document, dict):
        raise ConfigError([f"expected a mapping of sections with format: {FORMAT}"])
    if document.get("format") != FORMAT:
        raise ConfigError([f"format: expected {FORMAT!r}, not {document.get('format')!r}"])
    known = [section.name for section in sections()]
    unknown = [f"unknown section {quote(name)} (known: {', '.join(known)})" for name in document
               if name != "format" and name not in known]
    if unknown:
        raise ConfigError(unknown)
    return document


def import_document(text: str, *, dry_run: bool = False) -> ImportReport:
    """Create or update every object of the document, all or nothing; `dry_run` rolls back at the end.

    ConfigError with every problem found otherwise."""
    document = load_document(text)
    ordered = sections()
    importer = _Importer(Refs(ordered))
    with transaction.atomic():
        for section in ordered:
            if section.name in document:
                importer.import_section(section, document[section.name])
        if importer.problems:
            raise ConfigError(importer.problems)
        if dry_run:
            transaction.set_rollback(True)
    return importer.report


def _label(section: Section, entry: Any, index: int) -> str:
    """How a problem names an entry: its key ('core-1', or (device='core-1', if_index=3)), else its position."""
    if not isinstance(entry, dict) or any(name not in entry for name in section.key):
        return f"#{index + 1}"
    if len(section.key) == 1:
        return repr(entry[section.key[0]])
    return "(" + ", ".join(f"{name}={quote(entry[name])}" for name in section.key) + ")"


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc.args[0]) if exc.args else str(exc)


class _Importer:
    def __init__(self, refs: Refs) -> None:
        self.refs = refs
        self.report = ImportReport()
        self.problems: list[str] = []

    def import_section(self, section: Section, entries: Any) -> None:
        """Each entry in its own savepoint: a refused one leaves nothing behind, and the others are still checked."""
        self.report.sections.append(section.name)
        if not isinstance(entries, list):
            self.problems.append(f"{section.name}: expected a list of objects")
            return
        seen: set[str] = set()
        for index, entry in _parents_first(section, entries):
            where = f"{section.name} {_label(section, entry, index)}"
            try:
                _once(where, seen)
                with transaction.atomic():
                    _, created = self._save(section, entry, where)
            except _Refused as exc:
                self.problems += exc.problems
                continue
            except DatabaseError as exc:
                self.problems.append(f"{where}: the database refused it: {exc}")
                continue
            (self.report.created if created else self.report.updated)[section.name] += 1

    def _save(self, section: Section, entry: Any, where: str, parent: Model | None = None) -> tuple[Model, bool]:
        """Save one object and its children; (the object, whether it is new)."""
        _check_keys(section, entry, where)
        obj = self._existing(section, entry, where, parent) or section.model()
        created = obj.pk is None
        if parent is not None:
            setattr(obj, section.parent, parent)
        errors = self._assign(section, obj, entry)
        related = self._related(section, entry, errors)
        missing = _missing_secrets(section, obj, entry, errors)
        _validate(obj, errors, skip=missing)
        if errors:
            raise _Refused([f"{where}: {name}: {message}" if name != NON_FIELD_ERRORS else f"{where}: {message}"
                            for name, message in errors.items()])
        obj.save()
        for name, targets in related.items():
            getattr(obj, name).set(targets)
        _write_extras(section, obj, entry, where)
        self._save_children(section, obj, entry, where)
        self.refs.remember(obj)
        if missing:
            self.report.need_secrets.append(f"{where}: {', '.join(missing)}")
        return obj, created

    def _existing(self, section: Section, entry: dict, where: str, parent: Model | None) -> Model | None:
        """The object the entry names: by a `match_first` field it sets, else by its key."""
        for names in [*((name,) for name in section.match_first if entry.get(name) is not None), section.key]:
            lookup = {section.parent: parent} if parent is not None else {}
            for name in names:
                try:
                    lookup[name] = self.refs.python(section.model._meta.get_field(name), entry[name])
                except (LookupError, ValidationError) as exc:
                    raise _Refused([f"{where}: {name}: {_message(exc)}"]) from None
            found = section.model._default_manager.filter(**lookup).first()
            if found is not None:
                return found
        return None

    def _assign(self, section: Section, obj: Model, entry: dict) -> dict[str, str]:
        """Set the fields the entry gives (the others keep their values, or defaults); problems by field."""
        errors = {}
        for model_field in section.fields:
            if model_field.many_to_many or model_field.name not in entry:
                continue
            try:
                setattr(obj, model_field.name, self.refs.python(model_field, entry[model_field.name]))
            except (LookupError, ValidationError) as exc:
                errors[model_field.name] = _message(exc)
        return errors

    def _related(self, section: Section, entry: dict, errors: dict[str, str]) -> dict[str, list[Model]]:
        """The objects each many-to-many field the entry gives names (set once the object is saved)."""
        related = {}
        for model_field in section.fields:
            value = entry.get(model_field.name)
            if not model_field.many_to_many or model_field.name not in entry:
                continue
            if not isinstance(value, list):
                errors[model_field.name] = f"expected a list, not {quote(value)}"
                continue
            try:
                related[model_field.name] = [self.refs.find(model_field.related_model, key) for key in value]
            except (LookupError, ValidationError) as exc:
                errors[model_field.name] = _message(exc)
        return related

    def _save_children(self, section: Section, obj: Model, entry: dict, where: str) -> None:
        """The children each child list of the entry gives; those the list leaves out are deleted."""
        problems = []
        for child in section.children:
            if child.name not in entry:
                continue
            items = entry[child.name]
            if not isinstance(items, list):
                problems.append(f"{where}: {child.name}: expected a list")
                continue
            kept, seen = [], set()
            for index, item in enumerate(items):
                at = f"{where}: {child.name} {_label(child, item, index)}"
                try:
                    _once(at, seen)
                    kept.append(self._save(child, item, at, parent=obj)[0].pk)
                except _Refused as exc:
                    problems += exc.problems
            getattr(obj, child.accessor).exclude(pk__in=kept).delete()
        if problems:
            raise _Refused(problems)


def _once(where: str, seen: set[str]) -> None:
    if where in seen:
        raise _Refused([f"{where}: listed twice"])
    seen.add(where)


def _check_keys(section: Section, entry: Any, where: str) -> None:
    """A mapping, of the section's fields only (a typo is refused, not ignored), with its key."""
    if not isinstance(entry, dict):
        raise _Refused([f"{where}: expected a mapping of fields, not {quote(entry)}"])
    known = [*(f.name for f in section.fields), *(e.name for e in section.extras),
             *(c.name for c in section.children), LEFT_OUT]
    problems = [f"{where}: {name}: not a field of {section.name} (it takes {', '.join(known)})"
                for name in entry if name not in known]
    problems += [f"{where}: {name}: required (it names the object)" for name in section.key if name not in entry]
    if problems:
        raise _Refused(problems)


def _missing_secrets(section: Section, obj: Model, entry: dict, errors: dict[str, str]) -> list[str]:
    """The secrets the document left out that the object does not have yet (an existing one keeps its own)."""
    left_out = entry.get(LEFT_OUT, [])
    secrets = [f.name for f in section.fields if isinstance(f, SecretField)]
    if not isinstance(left_out, list) or any(name not in secrets for name in left_out):
        errors[LEFT_OUT] = f"a list of secret fields, among: {', '.join(secrets) or 'none'}"
        return []
    return [name for name in left_out if not getattr(obj, name)]


def _validate(obj: Model, errors: dict[str, str], skip: list[str]) -> None:
    """full_clean(), its problems added to `errors`; fields already wrong are not checked again, and a secret to
    be set later is checked as if it were there (a Zabbix user's password, say, is not missing, only left out)."""
    values = {name: getattr(obj, name) for name in skip}
    for name in skip:
        setattr(obj, name, SECRET_TO_BE_SET)
    try:
        obj.full_clean(exclude=[*errors, *skip])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            if name not in skip:
                errors.setdefault(name, "; ".join(messages))
    finally:
        for name, value in values.items():
            setattr(obj, name, value)


def _write_extras(section: Section, obj: Model, entry: dict, where: str) -> None:
    problems = []
    for extra in section.extras:
        if extra.name in entry:
            try:
                extra.write(obj, entry[extra.name])
            except (ValueError, TypeError, LookupError, ValidationError) as exc:
                problems.append(f"{where}: {extra.name}: {_message(exc)}")
    if problems:
        raise _Refused(problems)


def _parents_first(section: Section, entries: list) -> list[tuple[int, Any]]:
    """(position, entry), an entry after those of the document it refers to in its own section (a device's
    parent), so the reference can be found; otherwise in the document's order."""
    own = [f.name for f in section.fields if f.is_relation and not f.many_to_many and f.related_model is section.model]
    indexed = list(enumerate(entries))
    if not own or len(section.key) != 1:
        return indexed
    by_key = {entry[section.key[0]]: (index, entry) for index, entry in reversed(indexed)
              if isinstance(entry, dict) and isinstance(entry.get(section.key[0]), (str, int))}
    ordered: list[tuple[int, Any]] = []
    seen: set[int] = set()

    def visit(index: int, entry: Any) -> None:
        if index in seen:
            return
        seen.add(index)
        for name in own if isinstance(entry, dict) else ():
            target = entry.get(name)
            if isinstance(target, (str, int)) and target in by_key:
                visit(*by_key[target])
        ordered.append((index, entry))

    for index, entry in indexed:
        visit(index, entry)
    return ordered
