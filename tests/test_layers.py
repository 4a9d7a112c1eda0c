"""The layers import only downwards: protocol knows bytes, services never reach the store,
and the domain and store never reach the application or the front ends."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "amishare"
FORBIDDEN = {
    "protocol": ("amishare.store", "amishare.domain", "amishare.services", "amishare.application", "amishare.api"),
    "services": ("amishare.store", "amishare.application", "amishare.api"),
    "domain": ("amishare.services", "amishare.application", "amishare.api", "amishare.protocol"),
    "store": ("amishare.domain", "amishare.services", "amishare.application", "amishare.api", "amishare.protocol"),
    "application": ("amishare.api",),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_layers_import_only_downwards():
    offences = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            for module in _imports(path):
                if module.startswith(forbidden):
                    offences.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offences == []
