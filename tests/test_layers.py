"""The layers: the core names neither layer above it, and the layers reach the core through
its public names and one interface module, ``kmeans_scratch._engine``."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kmeans_scratch"
#: The layers above the core: the package's sub-packages.
LAYERS = tuple(sorted(init.parent.name for init in PACKAGE.glob("*/__init__.py")))
ENGINE = "kmeans_scratch._engine"
#: The command's entry point sits beside the core so that it can name a missing extra
#: (see its docstring); it is the compression layer's, not the core's.
ENTRY_POINT = "_command.py"


def package_of(path):
    """``kmeans_scratch.compression`` for ``kmeans_scratch/compression/_io.py``."""
    return ".".join(path.relative_to(PACKAGE.parent).parts[:-1])


def imported_and_named(path, package):
    """The modules the module ``path`` of ``package`` imports (absolute names) and the
    string constants of its code (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    imported, named = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            imported += [module] + [f"{module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                named.append(node.value)
    return imported, named


def core_modules():
    return [path for path in sorted(PACKAGE.glob("*.py")) if path.name != ENTRY_POINT]


def layer_modules():
    return [path for layer in LAYERS for path in sorted((PACKAGE / layer).rglob("*.py"))]


def is_core_private(name):
    """Whether ``name`` is a private module of the core (or a name in one), other than
    the engine."""
    return name.startswith("kmeans_scratch._") and not (
        name == ENGINE or name.startswith(ENGINE + ".")
    )


def test_the_layers_are_the_sub_packages():
    assert LAYERS == ("compression", "dask")


@pytest.mark.parametrize("path", core_modules(), ids=lambda path: path.name)
def test_the_core_names_no_layer_above_it(path):
    imported, named = imported_and_named(path, package_of(path))
    layer_names = tuple(f"kmeans_scratch.{layer}" for layer in LAYERS)
    assert not [name for name in imported if name.startswith(layer_names)]
    assert not [text for text in named if text.startswith(layer_names)]


@pytest.mark.parametrize("path", layer_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_layer_reaches_the_core_through_its_public_names_and_the_engine(path):
    """Neither imported nor named in a string (as a table of compiled calls would)."""
    imported, named = imported_and_named(path, package_of(path))
    assert not [name for name in imported if is_core_private(name)]
    assert not [text for text in named if is_core_private(text)]


def test_the_checks_see_what_they_forbid(tmp_path):
    """Imports relative or absolute, and a layer's module named in a string."""
    module = tmp_path / "reaching.py"
    module.write_text(
        '"""kmeans_scratch.compression in a docstring is prose."""\n'
        "from .._fit import ALGORITHMS\n"
        "import kmeans_scratch._blocks\n"
        "TABLE = {('kmeans_scratch.compression._histogram', 'pack_keys'): []}\n"
    )
    imported, named = imported_and_named(module, "kmeans_scratch.compression")
    assert "kmeans_scratch._fit.ALGORITHMS" in imported
    assert "kmeans_scratch._blocks" in imported
    assert named == ["kmeans_scratch.compression._histogram", "pack_keys"]
    assert is_core_private("kmeans_scratch._fit.ALGORITHMS")
    assert is_core_private("kmeans_scratch._engine_of_another_kind")
    assert not is_core_private("kmeans_scratch._engine.kernel")
