"""Imports run one way (docs/architecture.md "Layers"): an app imports only from apps below it, never a sibling's.

Every non-test, non-migration module of the apps is parsed, imports inside functions and under TYPE_CHECKING
included; string model references ("snmp.SNMPCredential") are not imports and are fine.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# lowest first; the apps of one tuple are siblings and never import each other
LAYERS: tuple[tuple[str, ...], ...] = (
    ("wardsite",), ("devices",), ("icmp", "snmp"), ("templates_app",), ("alerts",), ("discovery",), ("zabbix_bridge",),
)


def _is_checked(path: Path, app_dir: Path) -> bool:
    """Application code: not tests, not migrations."""
    parts = path.relative_to(app_dir).parts
    return not ({"tests", "migrations"} & set(parts[:-1])) and not parts[-1].startswith(("test_", "conftest"))


def _imported_modules(tree: ast.Module, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the tree, relative ones resolved against `package`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append((node.lineno, ".".join([*base, node.module] if node.module else base)))
            else:
                found.append((node.lineno, node.module or ""))
    return found


def layer_violations(root: Path, layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """`path:line: app imports other (why)` for each import from a higher layer or a sibling app."""
    rank = {app: level for level, apps in enumerate(layers) for app in apps}
    violations = []
    for app, level in rank.items():
        app_dir = root / app
        for path in sorted(app_dir.rglob("*.py")):
            if not _is_checked(path, app_dir):
                continue
            module_parts = path.relative_to(root).with_suffix("").parts
            package = ".".join(module_parts if path.name == "__init__.py" else module_parts[:-1])
            for line, module in _imported_modules(ast.parse(path.read_text(), str(path)), package):
                other = module.split(".")[0]
                if other == app or other not in rank or rank[other] < level:
                    continue
                why = "a sibling" if rank[other] == level else "a higher layer"
                violations.append(f"{path.relative_to(root)}:{line}: {app} imports {module} ({why})")
    return violations


def test_no_app_imports_from_a_higher_layer_or_a_sibling():
    violations = layer_violations(ROOT)
    assert not violations, "imports against the layers:\n" + "\n".join(violations)


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


FAKE_LAYERS = (("base",), ("low",), ("left", "right"), ("top",))


def test_it_names_the_file_and_line_of_an_upward_or_sideways_import(tmp_path):
    root = _plant(tmp_path, {
        "base/__init__.py": "",
        "base/urls.py": "import os\n\nfrom low import views\n",
        "low/admin.py": "from base import x\n\n\ndef page():\n    from top.models import Thing\n",
        "low/sub/deep.py": "import typing\nif typing.TYPE_CHECKING:\n    import left.models\n",
        "left/services.py": "from ..right import client\n",
        "right/services.py": "from low.models import Device\nfrom top import apps  # noqa\n",
        "top/admin.py": "from left import services\nfrom right.models import Item\nfrom . import models\n",
    })
    assert layer_violations(root, FAKE_LAYERS) == [
        "base/urls.py:3: base imports low (a higher layer)",
        "low/admin.py:5: low imports top.models (a higher layer)",
        "low/sub/deep.py:3: low imports left.models (a higher layer)",
        "left/services.py:1: left imports right (a sibling)",
        "right/services.py:2: right imports top (a higher layer)",
    ]


def test_it_skips_tests_and_migrations(tmp_path):
    root = _plant(tmp_path, {
        "low/tests/test_admin.py": "from top import models\n",
        "low/test_it.py": "import top\n",
        "low/migrations/0002_data.py": "from top.models import Thing\n",
        "low/models.py": "from django.db import models\nparent = models.ForeignKey('top.Thing', models.CASCADE)\n",
    })
    assert layer_violations(root, FAKE_LAYERS) == []


def test_every_app_in_the_layers_is_in_the_tree():
    missing = [app for apps in LAYERS for app in apps if not (ROOT / app / "__init__.py").exists()]
    assert not missing, f"in LAYERS but not in the tree: {missing}"


def test_every_app_s_tests_are_collected(pytestconfig):
    """An app missing from pytest.ini's testpaths would have its tests silently left out of `make test`."""
    collected = set(pytestconfig.getini("testpaths"))
    assert {app for layer in LAYERS for app in layer} - collected == set()
